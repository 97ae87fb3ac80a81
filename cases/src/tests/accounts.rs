//! Phone accounts and registrar bindings.

use super::on_both;
use crate::{BindingUpdate, PhoneAccount, Store, StoreError};

fn acct() -> PhoneAccount {
    PhoneAccount {
        username: "lawyer1".into(),
        realm: "hotline".into(),
        ha1_md5: "a".repeat(32),
        ha1_sha256: "b".repeat(64),
    }
}

fn upd<'a>(
    remove_all: bool,
    contacts: &'a [(String, u32)],
    call_id: &'a str,
    cseq: u32,
) -> BindingUpdate<'a> {
    BindingUpdate {
        aor: "lawyer1",
        remove_all,
        contacts,
        call_id,
        cseq,
        source: "127.0.0.1:5062",
        transport: "UDP",
    }
}

async fn accounts_round_trip_and_refuse_duplicates(s: Store) {
    s.add_phone_account(&acct()).await.unwrap();
    assert_eq!(s.phone_account("lawyer1").await.unwrap(), Some(acct()));
    assert!(matches!(
        s.add_phone_account(&acct()).await,
        Err(StoreError::Duplicate)
    ));
    assert_eq!(s.phone_account("nobody").await.unwrap(), None);
}

async fn bindings_add_refresh_ignore_old_cseq_and_remove(s: Store) {
    s.add_phone_account(&acct()).await.unwrap();
    let c = vec![("sip:l@127.0.0.1:5062".to_string(), 120)];
    let b = s.apply_bindings(&upd(false, &c, "cid", 2)).await.unwrap();
    assert_eq!(b.len(), 1);
    let old = vec![("sip:l@127.0.0.1:5062".to_string(), 0)];
    let b = s.apply_bindings(&upd(false, &old, "cid", 1)).await.unwrap();
    assert_eq!(b.len(), 1, "an older CSeq cannot remove the binding");
    let b = s.apply_bindings(&upd(false, &old, "cid", 3)).await.unwrap();
    assert!(b.is_empty());
    s.apply_bindings(&upd(false, &c, "cid2", 1)).await.unwrap();
    let b = s.apply_bindings(&upd(true, &[], "cid3", 1)).await.unwrap();
    assert!(b.is_empty());
}

on_both!(
    accounts_round_trip_and_refuse_duplicates,
    bindings_add_refresh_ignore_old_cseq_and_remove,
);
