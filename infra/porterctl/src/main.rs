//! `porterctl`: the operator's CLI. Uses the standard AWS environment, so the same commands
//! work against real AWS and, with `.porter/local.env` loaded, against the local stack.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use porter_shared::domain::{Email, TenantId, Timestamp, UserStatus};
use porter_shared::invitations::{self, parse_max_users, parse_tenant_name, ReissueError};
use porter_shared::store::table::TableOutcome;
use porter_shared::store::tenants::RegisterError;
use porter_shared::store::StoreError;
use porter_shared::AppState;
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
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table with its GSI, TTL and point-in-time recovery (safe to repeat).
    Create,
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
    /// Send a fresh invitation to a user who has not activated yet (older links stop working).
    Invite {
        tenant_id: String,
        #[arg(long)]
        email: String,
    },
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
    }
    Ok(())
}

async fn tenant(state: &AppState, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create {
            name,
            admin_email,
            max_users,
        } => {
            let name = parse_tenant_name(&name)?;
            let email = Email::parse(&admin_email)?;
            let max_users = max_users.map(parse_max_users).transpose()?;
            let reg = match invitations::register_tenant(
                state,
                &name,
                &email,
                max_users,
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
                    let t = state
                        .store
                        .get_tenant(&tid)
                        .await?
                        .with_context(|| format!("no tenant {tid}"))?;
                    bail!("tenant {tid} already has {} users; remove some before lowering the limit to {max}", t.user_count)
                }
                Err(e) => return Err(e.into()),
            }
        }
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
