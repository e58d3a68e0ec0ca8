//! `porterctl`: the operator's CLI. Uses the standard AWS environment, so the same commands
//! work against real AWS and, with `.porter/local.env` loaded, against the local stack.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use porter_shared::clients;
use porter_shared::domain::oauth::ClientRecord;
use porter_shared::domain::organization::DEFAULT_MAX_ORGANIZATIONS;
use porter_shared::domain::{ClientId, Email, TenantId, Timestamp, UserStatus};
use porter_shared::domain::{SecondFactorPolicy, SsoMethod};
use porter_shared::invitations::{self, ReissueError};
use porter_shared::store::table::TableOutcome;
use porter_shared::store::tenants::RegisterError;
use porter_shared::store::StoreError;
use porter_shared::tenants::OperatorSso;
use porter_shared::tenants::{self, parse_max_users, parse_tenant_name};
use porter_shared::AppState;
use secrecy::SecretString;
use serde_json::json;

#[derive(Parser)]
#[command(name = "porterctl", about = "Operate Porter: tables and tenants")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The DynamoDB table.
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
    /// Customer tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// The vendor's own apps that sign in with Porter (its OpenID provider).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// The keys that sign access tokens (KMS, behind PORTER_TOKEN_KEY).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The local stack of `make dev` (PORTER_PUBLIC_BASE_URL names its dev server).
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
    /// Registers an app; prints its client_id and, for a confidential client, its secret
    /// (once: Porter keeps only its hash).
    Create {
        /// Shown on the sign-in page: "Sign in to continue to <name>".
        #[arg(long)]
        name: String,
        /// Where codes may be sent (exact match); repeat for more than one.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where the app may send people after signing out; repeat for more than one.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A browser or mobile app: no secret, PKCE required.
        #[arg(long)]
        public: bool,
    },
    /// Every registered app.
    List,
    /// One app, without its secret.
    Show { client_id: String },
    /// A new secret for a confidential app; the old one stops working at once.
    RotateSecret { client_id: String },
    /// Removes an app: its codes and refresh tokens are refused from then on.
    Delete { client_id: String },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// A new signing key becomes current; the current one stays in the JWKS (refused until
    /// the current key is ten minutes old, so that every token of the key rotated out has
    /// expired when it leaves).
    Rotate,
}

#[derive(Subcommand)]
enum DevCommand {
    /// The dev server's DNS server on loopback, which domain verification asks.
    Dns {
        #[command(subcommand)]
        command: DnsCommand,
    },
}

#[derive(Subcommand)]
enum DnsCommand {
    /// Publish TXT records at a name (replacing what it held).
    Set {
        /// e.g. _porter-challenge.acme.test
        name: String,
        /// e.g. porter-verification=… (repeatable: several records)
        #[arg(required = true)]
        values: Vec<String>,
    },
    /// Remove every record at a name.
    Remove { name: String },
    /// Every published record.
    List,
}

#[derive(Subcommand)]
enum DomainCommand {
    /// Vouch for a tenant's domain as the operator: verified at once, audited.
    Verify { tenant_id: String, domain: String },
    /// A tenant's domains, verified or not, with the TXT record each would need.
    List { tenant_id: String },
    /// Release a tenant's domain (refused while its single sign-on names it).
    Remove { tenant_id: String, domain: String },
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table with its GSI, TTL and point-in-time recovery (safe to repeat).
    Create,
}

/// The tenant, or an error that says there is none.
async fn existing_tenant(
    state: &AppState,
    tid: &TenantId,
) -> anyhow::Result<porter_shared::domain::TenantRecord> {
    state
        .store
        .get_tenant(tid)
        .await?
        .with_context(|| format!("no tenant {tid}"))
}

/// 1 to 1000 organizations.
fn parse_max_organizations(n: u32) -> anyhow::Result<u32> {
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        bail!("--max-organizations must be between 1 and 1000")
    }
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Register a tenant and invite its first admin by email.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long)]
        max_users: Option<u32>,
        /// Pre-configure single sign-on (OpenID Connect discovery URL); the admin is then
        /// invited to sign in with their company account.
        #[arg(long)]
        sso_discovery_url: Option<String>,
        /// Pre-configure single sign-on with Entra ID (directory id).
        #[arg(long)]
        sso_entra_directory: Option<String>,
        #[arg(long, requires = "sso_client_secret_file")]
        sso_client_id: Option<String>,
        #[arg(long)]
        sso_client_secret_file: Option<std::path::PathBuf>,
        /// A domain routed to the provider (repeatable; default: the admin's).
        #[arg(long = "sso-domain")]
        sso_domains: Vec<String>,
        /// A managed service provider: its admins add and work in organizations it manages.
        #[arg(long)]
        msp: bool,
        /// How many organizations the MSP may manage (default 50).
        #[arg(long, requires = "msp")]
        max_organizations: Option<u32>,
    },
    /// Show a tenant and its users.
    Show { tenant_id: String },
    /// List every tenant.
    List,
    /// Change how many users a tenant may have.
    SetMaxUsers {
        tenant_id: String,
        #[arg(long)]
        max_users: u32,
    },
    /// Make a tenant a managed service provider, or change how many organizations it may
    /// manage.
    SetMsp {
        tenant_id: String,
        #[arg(long)]
        max_organizations: u32,
    },
    /// Send a fresh invitation to a user who has not activated yet (older links stop working).
    Invite {
        tenant_id: String,
        #[arg(long)]
        email: String,
    },
    /// Stop a tenant's sign-ins and end every session of it at once.
    Suspend { tenant_id: String },
    /// Let a suspended tenant sign in again.
    Resume { tenant_id: String },
    /// Single sign-on through the tenant's identity provider.
    Sso {
        #[command(subcommand)]
        command: SsoCommand,
    },
    /// The tenant's verified email domains, the only ones its provider may route.
    Domain {
        #[command(subcommand)]
        command: DomainCommand,
    },
}

#[derive(Subcommand)]
enum SsoCommand {
    /// Route the tenant's domains to its identity provider, active at once (checked first).
    Set {
        tenant_id: String,
        #[command(flatten)]
        sso: SsoArgs,
    },
    /// Break-glass: passwords again, at once; people without one are emailed a link to set it.
    Disable { tenant_id: String },
}

#[derive(clap::Args)]
struct SsoArgs {
    /// OpenID Connect: https://<issuer>/.well-known/openid-configuration
    #[arg(long)]
    discovery_url: Option<String>,
    /// Entra ID: the directory (tenant) id
    #[arg(long)]
    entra_directory: Option<String>,
    #[arg(long)]
    client_id: String,
    /// A file holding the client secret (kept out of the shell history and process list)
    #[arg(long)]
    client_secret_file: std::path::PathBuf,
    /// An email domain that signs in through the provider (repeatable)
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// Porter's own second factor after the provider: always, unless_provider_mfa or never
    #[arg(long, default_value = "always", value_parser = parse_second_factor)]
    second_factor: SecondFactorPolicy,
}

fn parse_second_factor(raw: &str) -> Result<SecondFactorPolicy, String> {
    SecondFactorPolicy::parse(raw)
        .ok_or_else(|| "expected always, unless_provider_mfa or never".to_owned())
}

impl SsoArgs {
    fn operator_sso(&self) -> anyhow::Result<OperatorSso> {
        let secret = std::fs::read_to_string(&self.client_secret_file)
            .with_context(|| format!("reading {}", self.client_secret_file.display()))?;
        let method = match (&self.discovery_url, &self.entra_directory) {
            (Some(_), None) => SsoMethod::Oidc,
            (None, Some(_)) => SsoMethod::EntraId,
            _ => bail!("give exactly one of --discovery-url and --entra-directory"),
        };
        Ok(OperatorSso {
            method,
            client_id: self.client_id.clone(),
            client_secret: SecretString::from(secret.trim().to_owned()),
            discovery_url: self.discovery_url.clone(),
            directory_id: self.entra_directory.clone(),
            domains: self.domains.clone(),
            second_factor: self.second_factor,
        })
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn tenant_id(raw: &str) -> anyhow::Result<TenantId> {
    TenantId::parse(raw)
        .with_context(|| format!("{raw:?} is not a tenant id (they look like t_0123456789abcdef)"))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Dev { command } = cli.command {
        return dev(command).await;
    }
    let state = AppState::from_env().await?;
    match cli.command {
        Command::Table {
            command: TableCommand::Create,
        } => match state.store.ensure_table().await? {
            TableOutcome::Created => println!("created table {}", state.store.table_name()),
            TableOutcome::AlreadyExisted => println!(
                "table {} already exists; TTL and PITR checked",
                state.store.table_name()
            ),
        },
        Command::Tenant { command } => tenant(&state, command).await?,
        Command::Client { command } => client(&state, command).await?,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let now = porter_shared::domain::Timestamp::now().0;
            let kid = porter_shared::access_tokens::rotate(&state, now).await?;
            println!(
                "signing key {kid} is current; the previous one stays in the JWKS until the next rotation"
            );
        }
        Command::Dev { .. } => unreachable!("handled above"),
    }
    Ok(())
}

fn client_id(raw: &str) -> anyhow::Result<ClientId> {
    ClientId::parse(raw)
        .with_context(|| format!("{raw:?} is not a client id (they look like c_0123456789abcdef)"))
}

fn client_json(c: &ClientRecord) -> serde_json::Value {
    json!({
        "client_id": c.id,
        "name": c.name,
        "type": if c.is_public() { "public" } else { "confidential" },
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "created_at": c.created_at.to_rfc3339(),
    })
}

async fn client(state: &AppState, command: ClientCommand) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    match command {
        ClientCommand::Create {
            name,
            redirect_uris,
            post_logout_redirect_uris,
            public,
        } => {
            let new = clients::NewClient {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                public,
            };
            let (c, secret) = clients::register(state, new, Timestamp::now()).await?;
            println!("client_id: {}", c.id);
            match secret {
                Some(s) => {
                    println!("client_secret: {}", s.expose_secret());
                    eprintln!("The secret is shown this once; Porter keeps only its hash.");
                }
                None => eprintln!("A public client: no secret; it must use PKCE (S256)."),
            }
        }
        ClientCommand::List => {
            for c in state.store.list_clients().await? {
                println!(
                    "{}  {:<30}  {:<12}  {}",
                    c.id,
                    c.name,
                    if c.is_public() {
                        "public"
                    } else {
                        "confidential"
                    },
                    c.redirect_uris.join(" ")
                );
            }
        }
        ClientCommand::Show { client_id: raw } => {
            let id = client_id(&raw)?;
            let c = state
                .store
                .get_client(&id)
                .await?
                .with_context(|| format!("no client {id}"))?;
            println!("{}", serde_json::to_string_pretty(&client_json(&c))?);
        }
        ClientCommand::RotateSecret { client_id: raw } => {
            let id = client_id(&raw)?;
            let secret = clients::rotate_secret(state, &id).await?;
            println!("client_id: {id}");
            println!("client_secret: {}", secret.expose_secret());
            eprintln!("The old secret no longer works; this one is shown once.");
        }
        ClientCommand::Delete { client_id: raw } => {
            let id = client_id(&raw)?;
            if !state.store.delete_client(&id).await? {
                bail!("no client {id}");
            }
            println!("client {id} removed; its codes and refresh tokens are refused from now on");
        }
    }
    Ok(())
}

/// `porterctl dev …`: asks the dev server of `PORTER_PUBLIC_BASE_URL` (from
/// `.porter/local.env`), which only `make dev` serves.
async fn dev(command: DevCommand) -> anyhow::Result<()> {
    let base = std::env::var("PORTER_PUBLIC_BASE_URL").context(
        "PORTER_PUBLIC_BASE_URL is not set: load the dev stack's environment (set -a; . .porter/local.env; set +a)",
    )?;
    let url = format!("{}/_dev/dns", base.trim_end_matches('/'));
    porter_shared::outbound::use_sdk_tls_provider();
    let client = reqwest::Client::new();
    let DevCommand::Dns { command } = command;
    let (name, values) = match command {
        DnsCommand::List => {
            let answer = succeeded(client.get(&url).send().await).await?;
            let all: std::collections::BTreeMap<String, Vec<String>> = answer.json().await?;
            for (name, values) in all {
                for v in values {
                    println!("{name}  TXT  \"{v}\"");
                }
            }
            return Ok(());
        }
        DnsCommand::Set { name, values } => (name, values),
        DnsCommand::Remove { name } => (name, vec![]),
    };
    let body = json!({ "name": name, "values": values });
    succeeded(client.post(&url).json(&body).send().await).await?;
    if values.is_empty() {
        println!("removed the records at {name}");
    } else {
        println!("{name} now holds {} TXT record(s)", values.len());
    }
    Ok(())
}

async fn tenant(state: &AppState, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create {
            name,
            admin_email,
            max_users,
            sso_discovery_url,
            sso_entra_directory,
            sso_client_id,
            sso_client_secret_file,
            sso_domains,
            msp,
            max_organizations,
        } => {
            let name = parse_tenant_name(&name)?;
            let max_organizations = match (msp, max_organizations) {
                (false, _) => None,
                (true, m) => Some(parse_max_organizations(
                    m.unwrap_or(DEFAULT_MAX_ORGANIZATIONS),
                )?),
            };
            let email = Email::parse(&admin_email)?;
            let max_users = max_users.map(parse_max_users).transpose()?;
            // Checked against the provider before anything is written.
            let sso = match (sso_client_id, sso_client_secret_file) {
                (Some(client_id), Some(client_secret_file)) => {
                    let domains = if sso_domains.is_empty() {
                        vec![email.domain().to_owned()]
                    } else {
                        sso_domains
                    };
                    let args = SsoArgs {
                        discovery_url: sso_discovery_url,
                        entra_directory: sso_entra_directory,
                        client_id,
                        client_secret_file,
                        domains,
                        second_factor: SecondFactorPolicy::Always,
                    };
                    let input = args.operator_sso()?;
                    let config = tenants::check_operator_config(state, &input).await?;
                    Some((config, input.client_secret))
                }
                _ => None,
            };
            let reg = match tenants::register_tenant_with_sso(
                state,
                &name,
                &email,
                max_users,
                sso,
                Timestamp::now(),
            )
            .await
            {
                Err(RegisterError::EmailTaken(e)) => {
                    bail!("{e} is already registered (in this or another tenant); nothing was written")
                }
                other => other?,
            };
            println!("created tenant {} ({name})", reg.tenant);
            if let Some(max) = max_organizations {
                state.store.set_msp(&reg.tenant, max).await?;
                println!("it is an MSP and may manage {max} organizations");
            }
            println!("admin {email} invited as user {}", reg.admin);
            match reg.mail {
                Ok(id) => {
                    println!("invitation emailed (message id {id}); the link works for 2 days")
                }
                Err(e) => bail!(
                    "the tenant exists but the invitation email failed: {e}\n\
                     send it again with: porterctl tenant invite {} --email {email}",
                    reg.tenant
                ),
            }
        }
        TenantCommand::Show { tenant_id: raw } => {
            let tid = tenant_id(&raw)?;
            let tenant = state
                .store
                .get_tenant(&tid)
                .await?
                .with_context(|| format!("no tenant {tid}"))?;
            let users: Vec<_> = state
                .store
                .list_users(&tid)
                .await?
                .into_iter()
                .map(|u| {
                    json!({
                        "id": u.id, "email": u.email, "role": u.role, "status": u.status,
                        "created_at": Timestamp(u.created_at).to_rfc3339(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({ "tenant": tenant, "users": users }))?
            );
        }
        TenantCommand::List => {
            for t in state.store.list_tenants().await? {
                println!(
                    "{}  {:<30}  users {}/{}  setup {}",
                    t.id,
                    t.name,
                    t.user_count,
                    t.max_users,
                    if t.setup_done { "done" } else { "pending" }
                );
            }
        }
        TenantCommand::SetMaxUsers {
            tenant_id: raw,
            max_users,
        } => {
            let tid = tenant_id(&raw)?;
            let max = parse_max_users(max_users)?;
            match state.store.set_max_users(&tid, max).await {
                Ok(()) => println!("tenant {tid} may now have {max} users"),
                Err(StoreError::Conflict { .. }) => {
                    let t = existing_tenant(state, &tid).await?;
                    bail!("tenant {tid} already has {} users; remove some before lowering the limit to {max}", t.user_count)
                }
                Err(e) => return Err(e.into()),
            }
        }
        TenantCommand::SetMsp {
            tenant_id: raw,
            max_organizations,
        } => {
            let tid = tenant_id(&raw)?;
            let max = parse_max_organizations(max_organizations)?;
            match state.store.set_msp(&tid, max).await {
                Ok(()) => println!("tenant {tid} is an MSP and may manage {max} organizations"),
                Err(StoreError::Conflict { .. }) => {
                    let t = existing_tenant(state, &tid).await?;
                    if t.parent.is_some() {
                        bail!("tenant {tid} is an organization an MSP manages; it cannot be an MSP itself")
                    }
                    bail!("tenant {tid} already manages {} organizations; remove some before lowering the limit to {max}", t.org_count)
                }
                Err(e) => return Err(e.into()),
            }
        }
        TenantCommand::Suspend { tenant_id: raw } => {
            let tid = tenant_id(&raw)?;
            let Some(ended) = tenants::suspend_tenant(state, &tid).await? else {
                bail!("no tenant {tid}");
            };
            println!(
                "tenant {tid} is suspended: nobody of it can sign in; {ended} live session(s) ended"
            );
        }
        TenantCommand::Resume { tenant_id: raw } => {
            let tid = tenant_id(&raw)?;
            if !tenants::resume_tenant(state, &tid).await? {
                bail!("no tenant {tid}");
            }
            println!("tenant {tid} can sign in again");
        }
        TenantCommand::Sso {
            command:
                SsoCommand::Set {
                    tenant_id: raw,
                    sso,
                },
        } => {
            let tid = tenant_id(&raw)?;
            state
                .store
                .get_tenant(&tid)
                .await?
                .with_context(|| format!("no tenant {tid}"))?;
            let input = sso.operator_sso()?;
            let config = tenants::check_operator_config(state, &input).await?;
            let issuer = config.provider.issuer.clone();
            tenants::activate_operator_config(state, &tid, config, &input.client_secret).await?;
            println!(
                "tenant {tid} now signs in through {issuer} for {}",
                input.domains.join(", ")
            );
        }
        TenantCommand::Sso {
            command: SsoCommand::Disable { tenant_id: raw },
        } => {
            let tid = tenant_id(&raw)?;
            let emailed = tenants::disable_by_operator(state, &tid).await?;
            println!("tenant {tid} signs in with passwords again");
            for e in emailed {
                println!("  emailed a link to set a password: {e}");
            }
        }
        TenantCommand::Domain { command } => domain(state, command).await?,
        TenantCommand::Invite {
            tenant_id: raw,
            email,
        } => {
            let tid = tenant_id(&raw)?;
            let email = Email::parse(&email)?;
            let user = state
                .store
                .list_users(&tid)
                .await?
                .into_iter()
                .find(|u| u.email == email)
                .with_context(|| format!("tenant {tid} has no user {email}"))?;
            if user.status != UserStatus::Invited {
                bail!("{email} has already activated their account");
            }
            match invitations::reissue(state, &user, "operator", "operator", Timestamp::now()).await
            {
                Ok(()) => {
                    println!("a new invitation was emailed to {email}; older links no longer work")
                }
                Err(ReissueError::TooSoon { retry_after_secs }) => {
                    bail!("an invitation was sent less than a minute ago; try again in {retry_after_secs} s")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// The dev server's answer when it is a success; otherwise what went wrong, in words.
async fn succeeded(sent: reqwest::Result<reqwest::Response>) -> anyhow::Result<reqwest::Response> {
    let answer = sent.context("asking the dev server (is `make dev` running?)")?;
    if !answer.status().is_success() {
        bail!(
            "the dev server answered {}: {}",
            answer.status(),
            answer.text().await?
        );
    }
    Ok(answer)
}

async fn domain(state: &AppState, command: DomainCommand) -> anyhow::Result<()> {
    match command {
        DomainCommand::Verify {
            tenant_id: raw,
            domain,
        } => {
            let tid = tenant_id(&raw)?;
            state
                .store
                .get_tenant(&tid)
                .await?
                .with_context(|| format!("no tenant {tid}"))?;
            let claim = tenants::verify_domain_by_operator(state, &tid, &domain).await?;
            println!(
                "{} is verified for tenant {tid} (by the operator)",
                claim.domain
            );
        }
        DomainCommand::List { tenant_id: raw } => {
            let tid = tenant_id(&raw)?;
            for c in state.store.list_domains(&tid).await? {
                match c.verified {
                    Some((by, at)) => println!(
                        "{}  verified by {} at {}",
                        c.domain,
                        by.as_str(),
                        at.to_rfc3339()
                    ),
                    None => println!(
                        "{}  unverified: TXT {} = {}",
                        c.domain,
                        porter_shared::domain::sso::txt_name(&c.domain),
                        c.txt_value
                    ),
                }
            }
        }
        DomainCommand::Remove {
            tenant_id: raw,
            domain,
        } => {
            let tid = tenant_id(&raw)?;
            if !tenants::remove_domain_by_operator(state, &tid, &domain).await? {
                bail!("tenant {tid} holds no domain {domain}");
            }
            println!("{domain} is no longer a domain of tenant {tid}");
        }
    }
    Ok(())
}
