//! What every handler gets: configuration and AWS clients, built once per cold start and
//! passed by reference.

use crate::config::{Config, ConfigError};
use crate::mail::Mailer;
use crate::secrets::SecretStore;
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub mailer: Mailer,
    pub secrets: SecretStore,
}

impl AppState {
    /// Reads the configuration and the standard AWS environment (region, credentials,
    /// `AWS_ENDPOINT_URL` locally). Fails fast, naming the missing variable.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_from_env().await;
        if sdk.region().is_none() {
            return Err(ConfigError::Missing("AWS_REGION"));
        }
        Ok(Self::from_sdk_config(config, &sdk))
    }

    pub fn from_sdk_config(config: Config, sdk: &aws_config::SdkConfig) -> Self {
        Self {
            store: Store::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name),
            mailer: Mailer::new(aws_sdk_sesv2::Client::new(sdk), &config.mail_from),
            secrets: SecretStore::new(aws_sdk_secretsmanager::Client::new(sdk), &config.stage),
            config,
        }
    }
}
