//! Why an admin operation failed, with a stable machine code (the HTTP API's `code`) and a
//! message that names what is wrong and what is allowed.

use domreg_events::settings::SettingsError;
use domreg_events::{ContactError, DomainError, DomainNameError, IdError, MoneyError};

use crate::app::AppError;
use crate::engine::place::OrderError;
use crate::store::StoreError;
use crate::unit_of_work::UnitError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Input that can never be right (a malformed domain, amount, id, setting).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    /// Valid, but the current state forbids it (an open order, an existing connection).
    #[error("{0}")]
    Conflict(String),
    /// The TLD lacks a connection, price or the account its contacts.
    #[error("{0}")]
    NotOrderable(String),
    /// OpenSRS could not be reached or refused the call.
    #[error("{0}")]
    Registrar(String),
    /// The license agreement changed since the customer was shown it.
    #[error("{0}")]
    AgreementChanged(String),
    /// The account cannot pay: its balance and credit limit do not cover the price.
    #[error("{0}")]
    InsufficientFunds(String),
    /// The log, the read models or the secret store failed.
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    pub fn invalid(code: &'static str, message: impl std::fmt::Display) -> Self {
        AdminError::Invalid {
            code,
            message: message.to_string(),
        }
    }

    /// The stable code clients may match on.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Invalid { code, .. } => code,
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict(_) => "conflict",
            AdminError::NotOrderable(_) => "not_orderable",
            AdminError::Registrar(_) => "registrar_error",
            AdminError::InsufficientFunds(_) => "insufficient_funds",
            AdminError::AgreementChanged(_) => "agreement_changed",
            AdminError::Internal(_) => "internal",
        }
    }
}

impl From<DomainNameError> for AdminError {
    fn from(e: DomainNameError) -> Self {
        AdminError::invalid("invalid_domain", e)
    }
}

impl From<MoneyError> for AdminError {
    fn from(e: MoneyError) -> Self {
        AdminError::invalid("invalid_amount", e)
    }
}

impl From<IdError> for AdminError {
    fn from(e: IdError) -> Self {
        match e {
            IdError::Account(_) => AdminError::invalid("invalid_account", e),
            IdError::Period(_) => AdminError::invalid("invalid_period", e),
            IdError::IdempotencyKey(_) => AdminError::invalid("invalid_idempotency_key", e),
            IdError::UnknownKind(_) => AdminError::invalid("invalid_kind", e),
        }
    }
}

impl From<ContactError> for AdminError {
    fn from(e: ContactError) -> Self {
        AdminError::invalid("invalid_contacts", e)
    }
}

impl From<SettingsError> for AdminError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::UnknownRegistrar(_) => AdminError::NotFound(e.to_string()),
            SettingsError::RegistrarExists(_) => AdminError::Conflict(e.to_string()),
            SettingsError::Amount(_) => AdminError::invalid("invalid_amount", e),
            _ => AdminError::invalid("invalid_setting", e),
        }
    }
}

impl From<DomainError> for AdminError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::UnknownOrder(_) => AdminError::NotFound(e.to_string()),
            DomainError::TransferPeriod(_) => AdminError::invalid("invalid_period", e),
            DomainError::NonPositivePrice(_) => AdminError::invalid("invalid_amount", e),
            DomainError::BadChange(_) => AdminError::invalid("invalid_change", e),
            _ => AdminError::Conflict(e.to_string()),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::WrongExpectedVersion { .. } => AdminError::Conflict(format!(
                "changed by someone else meanwhile; try again ({e})"
            )),
            _ => AdminError::Internal(e.to_string()),
        }
    }
}

impl From<AppError> for AdminError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Store(s) => s.into(),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<domreg_projections::ModelError> for AdminError {
    fn from(e: domreg_projections::ModelError) -> Self {
        AdminError::Internal(e.to_string())
    }
}

impl From<crate::secrets::SecretError> for AdminError {
    fn from(e: crate::secrets::SecretError) -> Self {
        AdminError::Internal(e.to_string())
    }
}

impl From<OrderError> for AdminError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::Name(n) => n.into(),
            OrderError::Id(i) => i.into(),
            OrderError::NoConnection(_)
            | OrderError::NoPrice { .. }
            | OrderError::NoContacts(_) => AdminError::NotOrderable(e.to_string()),
            OrderError::Refused(d) => d.into(),
            OrderError::RestoreNeeded { .. } => AdminError::invalid("restore_needed", e),
            OrderError::App(a) => a.into(),
            OrderError::Secret(s) => s.into(),
            OrderError::IdReused { .. } => AdminError::Conflict(e.to_string()),
            OrderError::Write(w) => w.into(),
            OrderError::Funds(f) => f.into(),
            OrderError::HoldLapsed(_) => AdminError::Conflict(e.to_string()),
        }
    }
}

impl From<crate::engine::funds::FundsError> for AdminError {
    fn from(e: crate::engine::funds::FundsError) -> Self {
        use crate::engine::funds::FundsError;
        match e {
            FundsError::Short(_) => AdminError::InsufficientFunds(e.to_string()),
            FundsError::Busy(_) => AdminError::Conflict(e.to_string()),
            FundsError::App(a) => a.into(),
        }
    }
}

impl From<crate::engine::steps::StepError> for AdminError {
    fn from(e: crate::engine::steps::StepError) -> Self {
        match e {
            crate::engine::steps::StepError::Unit(u) => u.into(),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<UnitError> for AdminError {
    fn from(e: UnitError) -> Self {
        match e {
            UnitError::Store(s) => s.into(),
            UnitError::Refused { error, .. } => error.into(),
            UnitError::Contended { .. } => AdminError::Conflict(e.to_string()),
            UnitError::Unreadable { .. } => AdminError::Internal(e.to_string()),
        }
    }
}

impl From<domreg_events::policy::CancelRefusal> for AdminError {
    fn from(e: domreg_events::policy::CancelRefusal) -> Self {
        AdminError::Conflict(e.to_string())
    }
}
