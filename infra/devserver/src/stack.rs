//! The local AWS stack: SDK configuration that can only reach moto on loopback, and the
//! table and sender identity Porter needs there.

use anyhow::Context;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use porter_shared::{AppState, Config};
use rand::RngCore;
use secrecy::SecretString;

pub const REGION: &str = "us-east-1";

/// Static dummy credentials, a fixed region and an explicit loopback endpoint: nothing in
/// the default provider chain (profiles, instance metadata) is consulted.
pub fn sdk_config(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            Credentials::new("test", "test", None, None, "porter-local"),
        ))
        .build()
}

/// The environment a process needs to use the same stack (`.porter/local.env`): the AWS
/// variables of the loopback stack, and the configuration's own (`Config::to_env`).
pub fn env_vars(endpoint: &str, config: &Config) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
    ];
    vars.extend(config.to_env());
    vars
}

/// What a local stack sets unless told otherwise.
fn local_defaults(table: &str, public_base_url: &str) -> [(&'static str, String); 6] {
    [
        ("PORTER_TABLE", table.to_owned()),
        ("PORTER_STAGE", "local".to_owned()),
        ("PORTER_PUBLIC_BASE_URL", public_base_url.to_owned()),
        ("PORTER_MAIL_FROM", "no-reply@porter.test".to_owned()),
        ("PORTER_PRODUCT_NAME", "Porter".to_owned()),
        // Local identity providers and platform stand-ins listen on loopback over http.
        ("PORTER_ALLOW_LOOPBACK", "true".to_owned()),
    ]
}

/// A configuration for the tests: these defaults always, anything else PORTER_* (e.g.
/// PORTER_ENTRA_AUTHORITY) from the environment.
pub fn local_config(table: &str, public_base_url: &str) -> anyhow::Result<Config> {
    let pairs = local_defaults(table, public_base_url);
    Ok(Config::from_lookup(|k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(k).ok())
    })?)
}

/// The configuration of `make dev`: every PORTER_* set in the environment wins (as a
/// deployed function reads it), the local defaults fill the rest.
pub fn dev_config(table: &str, public_base_url: &str) -> anyhow::Result<Config> {
    let pairs = local_defaults(table, public_base_url);
    Ok(Config::from_lookup(|k| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
    })?)
}

/// Builds the state and creates what Porter expects to exist: the table, the mail queue (with
/// its dead-letter queue), a verified sender and the service secret.
pub async fn prepare(endpoint: &str, mut config: Config) -> anyhow::Result<AppState> {
    if config.mail_queue_url.is_none() {
        config.mail_queue_url = Some(ensure_mail_queue(endpoint, &config.table_name).await?);
    }
    ensure_token_key(endpoint, &config.token_key).await?;
    let state = AppState::from_sdk_config(config, &sdk_config(endpoint))?;
    state
        .store
        .ensure_table()
        .await
        .context("creating the table")?;
    verify_sender(&state).await?;
    ensure_service_secret(&state).await?;
    Ok(state)
}

/// How many times a mail job is tried before it moves to the dead-letter queue, and how long a
/// failed one stays invisible before the next try (seconds): template.yaml's are five and six
/// times the function's timeout; locally a retry comes at once.
pub const MAIL_MAX_RECEIVES: u32 = 3;
pub const MAIL_VISIBILITY_SECS: u32 = 1;

/// The mail queue and its dead-letter queue, as template.yaml creates them; the queue's URL.
pub async fn ensure_mail_queue(endpoint: &str, table: &str) -> anyhow::Result<String> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(endpoint));
    let (name, dlq_name) = crate::mailer::queue_names(table);
    let dlq = sqs
        .create_queue()
        .queue_name(&dlq_name)
        .send()
        .await
        .map_err(sqs_error)?;
    let dlq_url = dlq.queue_url.context("no dead-letter queue URL")?;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .map_err(sqs_error)?
        .attributes
        .and_then(|a| a.get(&A::QueueArn).cloned())
        .context("no dead-letter queue ARN")?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": arn,
        "maxReceiveCount": MAIL_MAX_RECEIVES,
    });
    let queue = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(A::RedrivePolicy, redrive.to_string())
        .attributes(A::VisibilityTimeout, MAIL_VISIBILITY_SECS.to_string())
        .send()
        .await
        .map_err(sqs_error)?;
    queue.queue_url.context("no mail queue URL")
}

/// The access-token signing key (ECC_NIST_P256, SIGN_VERIFY) behind `alias`, as template.yaml
/// creates it; created once per moto (the tests' stacks share it, as a stage's functions do).
pub async fn ensure_token_key(endpoint: &str, alias: &str) -> anyhow::Result<()> {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let kms = aws_sdk_kms::Client::new(&sdk_config(endpoint));
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("KMS: {e}");
    if kms.describe_key().key_id(alias).send().await.is_ok() {
        return Ok(());
    }
    let key = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description("Porter access tokens (local)")
        .send()
        .await
        .map_err(|e| err(&aws_sdk_kms::error::DisplayErrorContext(e)))?;
    let id = key.key_metadata.context("no key metadata")?.key_id;
    let made = kms
        .create_alias()
        .alias_name(alias)
        .target_key_id(&id)
        .send()
        .await;
    match made {
        Ok(_) => Ok(()),
        // Another stack of the same moto made it meanwhile: theirs is the key.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(err(&aws_sdk_kms::error::DisplayErrorContext(e))),
    }
}

fn sqs_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> anyhow::Error {
    anyhow::anyhow!(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

/// `porter/<stage>/service` with a random data key, as template.yaml generates it in AWS.
pub async fn ensure_service_secret(state: &AppState) -> anyhow::Result<()> {
    let mut material = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut material);
    let value = serde_json::json!({ "data_key": hex::encode(material) }).to_string();
    state
        .secrets()
        .create_if_absent(
            &state.secrets().service_secret_name(),
            &SecretString::from(value),
        )
        .await?;
    Ok(())
}

/// moto, like SES in its sandbox, refuses to send from an unverified address.
pub async fn verify_sender(state: &AppState) -> anyhow::Result<()> {
    let ses = state.mailer().client();
    let res = ses
        .create_email_identity()
        .email_identity(&state.config.mail_from)
        .send()
        .await;
    match res {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!(aws_sdk_sesv2::error::DisplayErrorContext(
            e
        )
        .to_string())),
    }
}
