//! Secrets: the OS keychain and the type that carries a secret through memory.
//!
//! dbdeck keeps passwords in the OS keychain (the Secret Service on Linux, through the keyring
//! crate) and nowhere else: config files, the store, logs and the API's responses hold only
//! the keychain account name. [`Sensitive`] prints `<redacted>` and cannot be serialised, so a
//! secret cannot leak through a log line or a response by accident. This module must never
//! fall back to an in-memory or file store: when the keychain is unavailable it says so.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

use crate::error::{ApiError, ErrorCode};

/// A value that must not be shown or written anywhere. Deserialisable (it arrives from the UI
/// or stdin) but deliberately not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The only way to reach the secret. Call sites are the places a secret is used.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Sensitive)
    }
}

impl<T> TS for Sensitive<T> {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
    fn inline(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
}

/// Whether the keychain can be used on this machine right now.
#[derive(Debug, Clone, Serialize, TS)]
pub struct KeychainStatus {
    pub available: bool,
    pub backend: String,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One endpoint's secret as the keychain sees it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SecretStatus {
    pub role: String,
    pub account: String,
    pub stored: bool,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

const BACKEND: &str = if cfg!(target_os = "macos") {
    "macOS Keychain"
} else if cfg!(target_os = "windows") {
    "Windows Credential Manager"
} else {
    "Secret Service (D-Bus)"
};

/// The OS keychain, under one service name. Cheap to clone. Every call blocks (D-Bus round
/// trips), so async callers go through `spawn_blocking` via the async wrappers.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
}

impl Keychain {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub async fn status(&self) -> KeychainStatus {
        let result = tokio::task::spawn_blocking(|| keyring::Entry::store_status().as_ref().map_err(describe).copied())
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        KeychainStatus {
            available: result.is_ok(),
            backend: BACKEND.to_owned(),
            error: result.err(),
        }
    }

    pub async fn set(&self, account: &str, secret: &Sensitive<String>) -> Result<(), ApiError> {
        let (service, account, secret) = (self.service.clone(), account.to_owned(), secret.clone());
        blocking(move || {
            let entry = keyring::Entry::new(&service, &account)?;
            entry.set_password(secret.expose())
        })
        .await
        .map_err(|e| keychain_error("storing a password in", &e))
    }

    /// `Ok(None)` when the keychain works but has no entry for `account`.
    pub async fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, ApiError> {
        let (service, account) = (self.service.clone(), account.to_owned());
        match blocking(move || keyring::Entry::new(&service, &account)?.get_password()).await {
            Ok(p) => Ok(Some(Sensitive::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error("reading a password from", &e)),
        }
    }

    /// Deleting an entry that is not there is not an error.
    pub async fn delete(&self, account: &str) -> Result<(), ApiError> {
        let (service, account) = (self.service.clone(), account.to_owned());
        match blocking(move || keyring::Entry::new(&service, &account)?.delete_credential()).await {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error("deleting a password from", &e)),
        }
    }

    /// The password an endpoint needs, or a `secret_missing` error that says how to fix it.
    pub async fn require(&self, account: &str, env: &str, role: &str) -> Result<Sensitive<String>, ApiError> {
        self.get(account).await?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::SecretMissing,
                format!("the keychain has no password for environment '{env}' ({role})"),
            )
            .with_hint(format!(
                "store it with `dbdeck env set-password {env} --role {role} --password-stdin`, or on the Environments page"
            ))
        })
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> keyring::Result<T> + Send + 'static) -> keyring::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(keyring::Error::PlatformFailure(Box::new(e))))
}

fn describe(e: &keyring::Error) -> String {
    match e {
        keyring::Error::NoStorageAccess(inner) => format!("the keychain is locked or refused access ({inner})"),
        keyring::Error::NoDefaultStore => "no keychain service is running for this user".to_owned(),
        other => other.to_string(),
    }
}

fn keychain_error(doing: &str, e: &keyring::Error) -> ApiError {
    ApiError::new(
        ErrorCode::KeychainUnavailable,
        format!("while {doing} the OS keychain: {}", describe(e)),
    )
    .with_hint(
        "dbdeck keeps passwords only in the OS keychain. On Linux start and unlock a Secret Service \
         (GNOME Keyring or KWallet) in your session; secrets are never written to disk by dbdeck",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Sensitive::new("hunter2".to_owned());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(s)), "Some(<redacted>)");
    }

    #[test]
    fn deserialises_from_a_plain_string() {
        let s: Sensitive<String> = serde_json::from_str("\"pw\"").unwrap();
        assert_eq!(s.expose(), "pw");
    }
}
