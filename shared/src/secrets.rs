//! Secrets Manager: where every secret Porter holds lives (tenant private keys and passwords,
//! SSO client secrets, the service keys). Values travel as `SecretString`, so that they cannot
//! end up in a log line through `Debug`.

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("secret {0} does not exist")]
    NotFound(String),
    /// The SDK's message, which names the secret but never carries its value.
    #[error("secrets manager request failed: {0}")]
    Sdk(String),
}

/// A tenant's single sign-on client secret (`sso.rs`).
pub const SSO_SECRET: &str = "sso";
/// A tenant's platform key and its password (`platform.rs`).
pub const PLATFORM_SECRET: &str = "platform";
/// Every secret a tenant may have: what removing a tenant deletes.
pub const TENANT_SECRET_PARTS: [&str; 2] = [SSO_SECRET, PLATFORM_SECRET];

#[derive(Clone, Debug)]
pub struct SecretStore {
    client: aws_sdk_secretsmanager::Client,
    stage: String,
}

impl SecretStore {
    pub fn new(client: aws_sdk_secretsmanager::Client, stage: impl Into<String>) -> Self {
        Self {
            client,
            stage: stage.into(),
        }
    }

    /// `porter/<stage>/tenant/<tid>/<part>`, e.g. part `platform` or `sso`.
    pub fn tenant_secret_name(&self, tenant: &str, part: &str) -> String {
        format!("porter/{}/tenant/{tenant}/{part}", self.stage)
    }

    /// `porter/<stage>/service`: the service's own keys.
    pub fn service_secret_name(&self) -> String {
        format!("porter/{}/service", self.stage)
    }

    /// Creates the secret, or stores a new version when it exists.
    pub async fn put(&self, name: &str, value: &SecretString) -> Result<(), SecretsError> {
        let updated = self
            .client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value.expose_secret())
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.client
                    .create_secret()
                    .name(name)
                    .secret_string(value.expose_secret())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| SecretsError::Sdk(DisplayErrorContext(e).to_string()))
            }
            Err(e) => Err(SecretsError::Sdk(DisplayErrorContext(e).to_string())),
        }
    }

    /// Creates the secret unless it exists; `Ok(false)` when it did (whoever created it).
    pub async fn create_if_absent(
        &self,
        name: &str,
        value: &SecretString,
    ) -> Result<bool, SecretsError> {
        match self
            .client
            .create_secret()
            .name(name)
            .secret_string(value.expose_secret())
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(SecretsError::Sdk(DisplayErrorContext(e).to_string())),
        }
    }

    pub async fn get(&self, name: &str) -> Result<SecretString, SecretsError> {
        match self.client.get_secret_value().secret_id(name).send().await {
            Ok(out) => out
                .secret_string
                .map(SecretString::from)
                .ok_or_else(|| SecretsError::NotFound(name.to_owned())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Err(SecretsError::NotFound(name.to_owned()))
            }
            Err(e) => Err(SecretsError::Sdk(DisplayErrorContext(e).to_string())),
        }
    }

    /// Deletes the secret at once, without the recovery window (its owner is gone for good);
    /// `Ok(false)` when there was none.
    pub async fn delete(&self, name: &str) -> Result<bool, SecretsError> {
        match self
            .client
            .delete_secret()
            .secret_id(name)
            .force_delete_without_recovery(true)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(SecretsError::Sdk(DisplayErrorContext(e).to_string())),
        }
    }

    /// Deletes every secret of a tenant that is gone (what it never had is skipped).
    pub async fn delete_tenant_secrets(&self, tenant: &str) -> Result<(), SecretsError> {
        for part in TENANT_SECRET_PARTS {
            self.delete(&self.tenant_secret_name(tenant, part)).await?;
        }
        Ok(())
    }
}
