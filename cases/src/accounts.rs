//! Phone accounts (HA1 digests only) and registrar bindings.

use sqlx::Row;

use crate::{Store, StoreError};

/// A phone account as stored: the HA1 digests the registrar verifies against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneAccount {
    /// SIP username.
    pub username: String,
    /// Realm the digests were computed for.
    pub realm: String,
    /// MD5 HA1.
    pub ha1_md5: String,
    /// SHA-256 HA1.
    pub ha1_sha256: String,
}

/// One REGISTER's requested changes, as the registrar read them.
#[derive(Debug, Clone, Copy)]
pub struct BindingUpdate<'a> {
    /// Account whose bindings change.
    pub aor: &'a str,
    /// `Contact: *` with `Expires: 0`.
    pub remove_all: bool,
    /// Contact URIs with granted expiry in seconds (0 removes).
    pub contacts: &'a [(String, u32)],
    /// Call-ID of the REGISTER.
    pub call_id: &'a str,
    /// CSeq of the REGISTER.
    pub cseq: u32,
    /// `ip:port` the REGISTER came from.
    pub source: &'a str,
    /// `UDP` or `TCP`.
    pub transport: &'a str,
}

/// A registration binding as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBinding {
    /// Account the binding belongs to.
    pub aor: String,
    /// Contact URI the phone is reachable at.
    pub contact: String,
    /// Unix time the binding expires.
    pub expires_at: i64,
    /// Where the REGISTER came from (`ip:port`): calls to the phone go there (NAT).
    pub source: String,
    /// `UDP` or `TCP`.
    pub transport: String,
}

impl Store {
    /// Creates a phone account.
    pub async fn add_phone_account(&self, account: &PhoneAccount) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO sip_accounts (username, realm, ha1_md5, ha1_sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&account.username)
        .bind(&account.realm)
        .bind(&account.ha1_md5)
        .bind(&account.ha1_sha256)
        .bind(crate::unix_now())
        .execute(&self.pool)
        .await;
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Duplicate),
            other => other.map(|_| ()).map_err(StoreError::from),
        }
    }

    /// Looks an account up by username.
    pub async fn phone_account(&self, username: &str) -> Result<Option<PhoneAccount>, StoreError> {
        let row = sqlx::query(
            "SELECT username, realm, ha1_md5, ha1_sha256 FROM sip_accounts WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| PhoneAccount {
            username: r.get(0),
            realm: r.get(1),
            ha1_md5: r.get(2),
            ha1_sha256: r.get(3),
        }))
    }

    /// Applies one REGISTER's changes in a transaction (RFC 3261 §10.3 steps 7-8): an older
    /// CSeq from the same Call-ID is ignored; expiry 0 removes a binding. Returns the bindings
    /// now current.
    pub async fn apply_bindings(
        &self,
        u: &BindingUpdate<'_>,
    ) -> Result<Vec<StoredBinding>, StoreError> {
        let BindingUpdate {
            aor,
            remove_all,
            contacts,
            call_id,
            cseq,
            source,
            transport,
        } = *u;
        let now = crate::unix_now();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sip_bindings WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if remove_all {
            sqlx::query("DELETE FROM sip_bindings WHERE aor = $1")
                .bind(aor)
                .execute(&mut *tx)
                .await?;
        }
        for (contact, expires) in contacts {
            let existing = sqlx::query(
                "SELECT call_id, cseq FROM sip_bindings WHERE aor = $1 AND contact = $2",
            )
            .bind(aor)
            .bind(contact)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = existing {
                let (old_call, old_seq): (String, i64) = (row.get(0), row.get(1));
                if old_call == call_id && old_seq >= i64::from(cseq) {
                    continue; // out-of-order REGISTER
                }
            }
            sqlx::query("DELETE FROM sip_bindings WHERE aor = $1 AND contact = $2")
                .bind(aor)
                .bind(contact)
                .execute(&mut *tx)
                .await?;
            if *expires > 0 {
                sqlx::query(
                    "INSERT INTO sip_bindings (aor, contact, expires_at, call_id, cseq, source, transport) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(aor)
                .bind(contact)
                .bind(now + i64::from(*expires))
                .bind(call_id)
                .bind(i64::from(cseq))
                .bind(source)
                .bind(transport)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        self.bindings(aor).await
    }

    /// Unexpired bindings of an account, the most recently refreshed first (a phone that
    /// crashed without unregistering leaves an older binding behind; the live one comes first).
    pub async fn bindings(&self, aor: &str) -> Result<Vec<StoredBinding>, StoreError> {
        let rows = sqlx::query(
            "SELECT aor, contact, expires_at, source, transport FROM sip_bindings WHERE aor = $1 AND expires_at > $2 ORDER BY expires_at DESC, contact",
        )
        .bind(aor)
        .bind(crate::unix_now())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredBinding {
                aor: r.get(0),
                contact: r.get(1),
                expires_at: r.get(2),
                source: r.get(3),
                transport: r.get(4),
            })
            .collect())
    }
}
