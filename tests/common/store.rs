//! The server's store as a test reads it: the SQLite file in the server's data dir, opened
//! beside the running server.

use std::path::Path;

use hotline_cases::{CallRecord, Lawyer, Store, Task, Ticket};

/// The server's SQLite store, opened beside the running server (WAL lets both in).
pub struct StoreView {
    rt: tokio::runtime::Runtime,
    store: Store,
}

impl StoreView {
    pub fn open(data_dir: &Path) -> StoreView {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the store");
        let url = format!("sqlite://{}/hotline.db", data_dir.display());
        let store = rt
            .block_on(Store::open(&url))
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        StoreView { rt, store }
    }

    pub fn tickets_of(&self, caller: &str) -> Vec<Ticket> {
        self.rt
            .block_on(self.store.tickets_of_caller(caller))
            .expect("tickets of the caller")
    }

    pub fn calls_of(&self, ticket: &Ticket) -> Vec<CallRecord> {
        self.rt
            .block_on(self.store.calls_of_ticket(&ticket.id))
            .expect("calls of the ticket")
    }

    pub fn tasks_of(&self, ticket: &Ticket) -> Vec<Task> {
        self.rt
            .block_on(self.store.tasks_of_ticket(&ticket.id))
            .expect("tasks of the ticket")
    }

    /// The caller's one ticket (the test fails if there are none or several).
    /// The lawyers the server mirrored from its roster.
    pub fn lawyers(&self) -> Vec<Lawyer> {
        self.rt.block_on(self.store.lawyers()).expect("lawyers")
    }

    /// Every call in the store, oldest first.
    pub fn all_calls(&self) -> Vec<CallRecord> {
        self.rt
            .block_on(self.store.calls_arrived_between(0, i64::MAX))
            .expect("all calls")
    }

    pub fn only_ticket_of(&self, caller: &str) -> Ticket {
        let mut tickets = self.tickets_of(caller);
        assert_eq!(
            tickets.len(),
            1,
            "{caller} should have exactly one ticket: {tickets:#?}"
        );
        tickets.remove(0)
    }
}

impl Drop for StoreView {
    fn drop(&mut self) {
        self.rt.block_on(self.store.close());
    }
}
