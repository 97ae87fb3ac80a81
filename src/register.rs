//! Phone registrations: account lookup in the store, digest check in the sans-IO registrar,
//! binding update in the store (shared by every hotline node), response.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use hotline_cases::{BindingUpdate, Store};
use hotline_sip::driver::{Command, SipHandle};
use hotline_sip::endpoint::{RequestHandle, Transport};
use hotline_sip::message::Request;
use hotline_sip::registrar::{Account, AuthOutcome, Binding, Registrar};
use tracing::{info, warn};

pub type RegisterCtx = (SipHandle, Store, Arc<Mutex<Registrar>>);

/// One REGISTER: account lookup, digest check, binding update in the store, response.
pub async fn register(
    (sip, store, registrar): RegisterCtx,
    handle: RequestHandle,
    request: Box<Request>,
    source: std::net::SocketAddr,
    transport: Transport,
) {
    let account = match Registrar::username(&request) {
        Some(user) => match store.phone_account(&user).await {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "account lookup failed");
                let resp = request.response(500, Some(&hotline_sip::endpoint::random_token()));
                let _ = sip.send(Command::Respond(handle, Box::new(resp)));
                return;
            }
        },
        None => None,
    };
    let account = account.map(|a| Account {
        username: a.username,
        ha1_md5: a.ha1_md5,
        ha1_sha256: a.ha1_sha256,
    });
    let outcome = registrar.lock().expect("registrar lock").authenticate(
        &request,
        source.ip(),
        account.as_ref(),
        Instant::now(),
        hotline_cases::unix_now() as u64,
    );
    let response = match outcome {
        AuthOutcome::Refuse(resp) => {
            if resp.status == 403 {
                warn!(%source, "phone registration refused");
            }
            *resp
        }
        AuthOutcome::Authorized => {
            let change = registrar
                .lock()
                .expect("registrar lock")
                .binding_change(&request);
            match change {
                Err(resp) => *resp,
                Ok(ch) => {
                    let source = source.to_string();
                    let update = BindingUpdate {
                        aor: &ch.aor,
                        remove_all: ch.remove_all,
                        contacts: &ch.contacts,
                        call_id: &ch.call_id,
                        cseq: ch.cseq,
                        source: &source,
                        transport: transport.as_str(),
                    };
                    let applied = store.apply_bindings(&update).await;
                    match applied {
                        Ok(bindings) => {
                            info!(aor = %ch.aor, bindings = bindings.len(), "phone registered");
                            let now = hotline_cases::unix_now();
                            let current: Vec<Binding> = bindings
                                .into_iter()
                                .map(|b| Binding {
                                    contact: b.contact,
                                    expires_in: (b.expires_at - now).max(0) as u64,
                                })
                                .collect();
                            registrar
                                .lock()
                                .expect("registrar lock")
                                .ok_response(&request, &current)
                        }
                        Err(e) => {
                            warn!(error = %e, "storing bindings failed");
                            request.response(500, Some(&hotline_sip::endpoint::random_token()))
                        }
                    }
                }
            }
        }
    };
    let _ = sip.send(Command::Respond(handle, Box::new(response)));
}
