//! A domain's transfer code, given out as its TLD allows (the capability table): read
//! from OpenSRS and shown once, or e-mailed by OpenSRS to the admin contact. The log
//! records that it was given out and how (`AuthCodeDisclosed`), never the code.

use serde::Serialize;

use domreg_events::capabilities::{self, AuthCode};
use domreg_events::*;

use super::AdminError;
use crate::app::App;
use crate::engine::client_for;
use crate::opensrs::{self, Class, Secret};
use crate::unit_of_work::{load, UnitOfWork};

#[derive(Debug, Clone, Serialize)]
pub struct AuthCodeOutcome {
    pub domain: String,
    /// `shown` or `emailed to the admin contact`.
    pub how: String,
    /// The code, when shown (the one place it leaves domreg).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    pub auth_code: Option<Secret>,
}

fn expose<S: serde::Serializer>(code: &Option<Secret>, s: S) -> Result<S::Ok, S::Error> {
    match code {
        Some(c) => s.serialize_str(c.expose()),
        None => s.serialize_none(),
    }
}

pub async fn give_out(
    app: &mut App,
    domain: &str,
    actor: Actor,
) -> Result<AuthCodeOutcome, AdminError> {
    app.catch_up().await?;
    let name = DomainName::parse(domain)?;
    let state = load(&app.store, &name).await?;
    // Refused before any call for a domain that is not registered here.
    decide(
        &state,
        Command::RecordAuthCodeDisclosed { how: String::new() },
        app.clock.now(),
    )?;
    let connection = state.connection.clone().ok_or_else(|| {
        AdminError::Conflict(format!("{name} has no OpenSRS connection recorded"))
    })?;
    let client = client_for(app, &connection).map_err(AdminError::Registrar)?;
    let (how, code) = match capabilities::of(name.tld()).auth_code {
        AuthCode::IpsTag => {
            return Err(AdminError::Conflict(format!(
                ".{} has no transfer code: the domain moves when its IPS tag is set to the gaining registrar's (`domreg ips-tag {name} TAG --release`)",
                name.tld()
            )))
        }
        AuthCode::Readable => {
            let e = client
                .call(&opensrs::Command::GetAuthCode {
                    domain: name.to_string(),
                })
                .await;
            let code = e
                .outcome
                .as_ref()
                .ok()
                .filter(|_| e.classification.class == Class::Done)
                .and_then(|r| r.attr("domain_auth_info"))
                .map(Secret::new)
                .ok_or_else(|| {
                    AdminError::Registrar(format!(
                        "OpenSRS gave no transfer code for {name}: {}",
                        crate::engine::probe::describe(&e)
                    ))
                })?;
            ("shown".to_string(), Some(code))
        }
        AuthCode::Emailed => {
            let e = client
                .call(&opensrs::Command::SendAuthCode {
                    domain: name.to_string(),
                })
                .await;
            if e.classification.class != Class::Done {
                return Err(AdminError::Registrar(format!(
                    "OpenSRS did not send the transfer code of {name}: {}",
                    crate::engine::probe::describe(&e)
                )));
            }
            ("emailed to the admin contact".to_string(), None)
        }
    };
    let record = Command::RecordAuthCodeDisclosed { how: how.clone() };
    UnitOfWork::new(&app.store, actor, app.clock.now())
        .run(&name, |_| vec![record.clone()])
        .await?;
    Ok(AuthCodeOutcome {
        domain: name.to_string(),
        how,
        auth_code: code,
    })
}
