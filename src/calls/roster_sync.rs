//! Mirrors the dialplan's roster into the store's `lawyers` table, so tickets, reports and
//! the console can name every lawyer a call or ticket mentions, on every node, even after a
//! lawyer has left the roster (they stay, marked inactive).

use std::collections::BTreeSet;
use std::sync::Arc;

use hotline_cases::{Lawyer, LawyerStatus, Store, StoreError, unix_now_ms};
use hotline_ivr::Dialplan;

/// Remembers which dialplan was mirrored last, so a reload is mirrored once.
#[derive(Default)]
pub struct RosterMirror {
    last: std::sync::Mutex<Option<Arc<Dialplan>>>,
}

impl RosterMirror {
    /// Writes `plan`'s lawyers to the store unless this very plan was written already.
    /// Returns how many lawyers were written (0 when nothing changed).
    pub async fn sync(&self, plan: &Arc<Dialplan>, store: &Store) -> Result<usize, StoreError> {
        if self
            .last
            .lock()
            .expect("mirror lock")
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, plan))
        {
            return Ok(0);
        }
        let written = mirror(plan, store).await?;
        *self.last.lock().expect("mirror lock") = Some(plan.clone());
        Ok(written)
    }
}

/// Upserts every roster lawyer (regions from their weekly and dated shifts) as active and
/// marks lawyers no longer on the roster inactive.
async fn mirror(plan: &Dialplan, store: &Store) -> Result<usize, StoreError> {
    let now = unix_now_ms();
    let roster = &plan.roster;
    let mut on_roster = BTreeSet::new();
    for l in roster.lawyers() {
        let regions: BTreeSet<String> = roster
            .shifts()
            .iter()
            .filter(|s| s.lawyer == l.id)
            .map(|s| s.region.to_string())
            .chain(
                roster
                    .extra_shifts()
                    .iter()
                    .filter(|s| s.lawyer == l.id)
                    .map(|s| s.region.to_string()),
            )
            .collect();
        let lawyer = Lawyer {
            id: l.id.to_string(),
            name: l.name.clone(),
            sip_user: Some(l.sip.clone()),
            regions: regions.into_iter().collect(),
            skills: l.skills.iter().map(|s| s.as_str().to_owned()).collect(),
            status: LawyerStatus::Active,
        };
        store.upsert_lawyer(&lawyer, now).await?;
        on_roster.insert(lawyer.id);
    }
    for mut gone in store.lawyers().await? {
        if !on_roster.contains(&gone.id) && gone.status == LawyerStatus::Active {
            gone.status = LawyerStatus::Inactive;
            store.upsert_lawyer(&gone, now).await?;
        }
    }
    Ok(on_roster.len())
}
