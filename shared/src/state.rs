//! What every handler gets: configuration and AWS clients, built once per cold start and
//! passed by reference.

use crate::config::{Config, ConfigError};
use crate::credentials::crypto::DataKey;
#[cfg(feature = "webauthn")]
use crate::http::ApiError;
use crate::mail::queue::MailQueue;
use crate::mail::Mailer;
use crate::secrets::SecretStore;
use crate::secrets::SecretsError;
use crate::store::Store;
use secrecy::ExposeSecret;
use std::sync::{Arc, OnceLock};
use tokio::sync::OnceCell;

/// The DynamoDB client is built at start (every request reads a session or a counter); the
/// SES and Secrets Manager clients and the WebAuthn verifier on first use, once per instance:
/// a cold start pays only for what its first request needs.
#[derive(Clone)]
pub struct AppState {
    pub config: Config,
    pub store: Store,
    sdk: aws_config::SdkConfig,
    mailer: Arc<OnceLock<Mailer>>,
    mail_queue: Arc<OnceLock<Option<MailQueue>>>,
    secrets: Arc<OnceLock<SecretStore>>,
    #[cfg(feature = "webauthn")]
    webauthn: Arc<OnceLock<Result<crate::credentials::webauthn::Webauthn, String>>>,
    #[cfg(feature = "sms")]
    texter: Arc<OnceLock<crate::sms::Texter>>,
    /// Identity providers' key sets, per instance.
    pub jwks: crate::providers::JwksCache,
    /// Identity providers' client secrets, per instance.
    pub client_secrets: crate::providers::SecretCache,
    /// The DNS resolver domain verification asks, built on first use.
    dns: Arc<OnceLock<Result<hickory_resolver::TokioResolver, String>>>,
    /// The data key, fetched from Secrets Manager on first use and kept for the instance.
    data_key: Arc<OnceCell<DataKey>>,
    kms: Arc<OnceLock<aws_sdk_kms::Client>>,
    /// The access-token signing key's id, and the JWKS, with when they were fetched: kept a
    /// few seconds per instance, so that a rotation reaches warm instances at once.
    pub(crate) token_kid: Timed<String>,
    pub(crate) jwks_doc: Timed<crate::domain::access_token::Jwks>,
    /// The keys the authorizer verifies with, and when they were fetched (again for an
    /// unknown `kid`, at most once a minute).
    pub(crate) verifier_keys: VerifierKeys,
}

/// A value fetched from a service, with when.
pub(crate) type Timed<T> = Arc<tokio::sync::Mutex<Option<(T, std::time::Instant)>>>;

/// The keys an authorizer verifies access tokens with, and when they were fetched.
pub(crate) type VerifierKeys =
    Arc<tokio::sync::Mutex<Option<(crate::domain::access_token::Jwks, std::time::Instant)>>>;

/// The route table of a function whose handlers take the `AppState`.
pub type Routes = crate::http::Routes<AppState>;

impl crate::http::RouteState for AppState {
    fn check_origin(&self, req: &lambda_http::Request) -> Result<(), crate::http::ApiError> {
        crate::http::check_origin(req, &self.config)
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The JSON of `porter/<stage>/service`.
#[derive(serde::Deserialize)]
struct ServiceSecret {
    data_key: String,
}

/// Every AWS call ends within a few seconds, retries included: a dependency that is down or
/// stalls gives a 503 well inside the function's 10 s timeout, never a hang.
fn with_time_limits(sdk: &aws_config::SdkConfig) -> aws_config::SdkConfig {
    use std::time::Duration;
    let limits = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_millis(4500))
        .build();
    sdk.to_builder()
        .timeout_config(limits)
        .stalled_stream_protection(
            aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
        )
        .build()
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
        Self::from_sdk_config(config, &sdk)
    }

    pub fn from_sdk_config(
        config: Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let sdk = with_time_limits(sdk);
        config.check_webauthn_rp_id()?;
        Ok(Self {
            store: Store::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                &config.table_name,
                &config.audit_table_name,
            ),
            sdk,
            mailer: Arc::default(),
            mail_queue: Arc::default(),
            secrets: Arc::default(),
            #[cfg(feature = "webauthn")]
            webauthn: Arc::default(),
            #[cfg(feature = "sms")]
            texter: Arc::default(),
            jwks: crate::providers::JwksCache::default(),
            client_secrets: crate::providers::SecretCache::default(),
            data_key: Arc::new(OnceCell::new()),
            kms: Arc::default(),
            token_kid: Arc::default(),
            jwks_doc: Arc::default(),
            verifier_keys: Arc::default(),
            dns: Arc::default(),
            config,
        })
    }

    /// The mail sender (SES), built on first use.
    pub fn mailer(&self) -> &Mailer {
        self.mailer.get_or_init(|| {
            Mailer::new(
                aws_sdk_sesv2::Client::new(&self.sdk),
                &self.config.mail_from,
            )
        })
    }

    /// The queue of mails the `mailer` function sends (`PORTER_MAIL_QUEUE_URL`), built on
    /// first use; `None` when none is configured.
    pub fn mail_queue(&self) -> Option<&MailQueue> {
        self.mail_queue
            .get_or_init(|| {
                let url = self.config.mail_queue_url.as_ref()?;
                Some(MailQueue::new(aws_sdk_sqs::Client::new(&self.sdk), url))
            })
            .as_ref()
    }

    /// The text-message sender (SNS), built on first use.
    #[cfg(feature = "sms")]
    pub fn texter(&self) -> &crate::sms::Texter {
        self.texter
            .get_or_init(|| crate::sms::Texter::new(aws_sdk_sns::Client::new(&self.sdk)))
    }

    /// KMS (the access-token signing key), built on first use.
    pub fn kms(&self) -> &aws_sdk_kms::Client {
        self.kms.get_or_init(|| aws_sdk_kms::Client::new(&self.sdk))
    }

    /// Secrets Manager, built on first use.
    pub fn secrets(&self) -> &SecretStore {
        self.secrets.get_or_init(|| {
            SecretStore::new(
                aws_sdk_secretsmanager::Client::new(&self.sdk),
                &self.config.stage,
            )
        })
    }

    /// The WebAuthn verifier, built on first use (its settings were checked at start).
    #[cfg(feature = "webauthn")]
    pub fn webauthn(&self) -> Result<&crate::credentials::webauthn::Webauthn, ApiError> {
        self.webauthn
            .get_or_init(|| {
                crate::credentials::webauthn::build(&self.config).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ApiError::internal("webauthn settings", e))
    }

    /// The DNS resolver (`PORTER_DNS_SERVERS`, or the system's), built on first use.
    pub fn dns(&self) -> Result<&hickory_resolver::TokioResolver, crate::dns::DnsError> {
        self.dns
            .get_or_init(|| crate::dns::resolver(&self.config))
            .as_ref()
            .map_err(|e| crate::dns::DnsError::Failed {
                name: "the resolver".into(),
                reason: e.clone(),
            })
    }

    /// This state sending its mail through `other`'s mail service (a test points it at a
    /// server that stalls).
    pub fn with_mailer_of(mut self, other: &AppState) -> Self {
        self.mailer = Arc::new(OnceLock::from(other.mailer().clone()));
        self
    }

    /// The key that seals TOTP seeds. Fetched once per instance, on the first request that
    /// needs it, so that functions which never touch seeds never call Secrets Manager.
    pub async fn data_key(&self) -> Result<&DataKey, SecretsError> {
        self.data_key
            .get_or_try_init(|| async {
                let raw = self
                    .secrets()
                    .get(&self.secrets().service_secret_name())
                    .await?;
                let parsed: ServiceSecret =
                    serde_json::from_str(raw.expose_secret()).map_err(|_| {
                        SecretsError::Sdk(
                            "the service secret is not {\"data_key\": ...} JSON".into(),
                        )
                    })?;
                Ok(DataKey::from_material(&parsed.data_key))
            })
            .await
    }
}
