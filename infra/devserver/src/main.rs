//! `make dev`: the whole of Porter on this machine, no AWS account needed.

use anyhow::Context;
use clap::Parser;
use porter_dev::dns::DevDns;
use porter_dev::idp::{self, DevIdp};
use porter_dev::platform::PlatformStandIn;
use porter_dev::{moto::Moto, routes::RouteTable, server, stack};
use porter_shared::domain::{Email, Timestamp};
use porter_shared::tenants;
use secrecy::ExposeSecret;
use std::io::Write;
use std::sync::Arc;

#[derive(Parser)]
#[command(about = "Run Porter locally against moto")]
struct Args {
    /// Port of the dev server (http://localhost:PORT).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Port of the moto server (0: any free port).
    #[arg(long, env = "MOTO_PORT", default_value_t = 5005)]
    moto_port: u16,
    /// Where to write the environment of this stack.
    #[arg(long, default_value = ".porter/local.env")]
    env_file: std::path::PathBuf,
    /// Skip registering the demo tenant.
    #[arg(long)]
    no_demo: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    porter_shared::telemetry::init_pretty();
    let args = Args::parse();
    let template = std::fs::read_to_string(porter_dev::moto::repo_root().join("template.yaml"))
        .context("reading template.yaml")?;
    let routes = RouteTable::from_template(&template)?;

    // Bind first: a busy port should fail before anything else starts.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("port {} is busy; run with PORT=<another>", args.port))?;
    let moto = Moto::start(args.moto_port)?;
    let base_url = format!("http://localhost:{}", args.port);
    let idp = DevIdp::start(&format!("{base_url}/api/login/callback/"))?;
    let mut config = stack::dev_config("porter-local", &base_url)?;
    // Domain verification asks a DNS server on loopback that `porterctl dev dns set`
    // publishes to, unless the environment names other servers.
    let dns = if config.dns_servers.is_empty() {
        let dns = DevDns::start(0)
            .await
            .context("starting the local DNS server")?;
        config.dns_servers = vec![dns.addr];
        Some(dns)
    } else {
        None
    };
    // Entra ID directories are looked up at the local stand-in, unless the environment
    // names another authority.
    if std::env::var("PORTER_ENTRA_AUTHORITY").is_err() {
        config.entra_authority = url::Url::parse(&idp.base())?;
    }
    // New passwords are looked up in a stand-in of the breached-password service, unless
    // the environment names another.
    let breached = porter_dev::breached::BreachedStandIn::start().await?;
    if std::env::var("PORTER_BREACHED_PASSWORDS_URL").is_err() {
        config.breached_passwords_url = breached.url();
    }
    let app = stack::prepare(&moto.endpoint(), config).await?;
    // The `mailer` function, fed by the mail queue as Lambda feeds it.
    tokio::spawn(porter_dev::mailer::poll(app.clone()));
    // The vendor platform's stand-in, and a demo key it trusts, written next to the env file.
    let platform = PlatformStandIn::start().await?;
    let demo_key = porter_dev::platform::demo_key()?;
    platform.trust(demo_key.kid, demo_key.client_id, &demo_key.public_pem)?;
    let key_dir = args
        .env_file
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("platform");
    write_demo_key(&key_dir, &demo_key)?;
    let mut vars = stack::env_vars(&moto.endpoint(), &app.config);
    vars.push(("PORTER_DEV_PLATFORM", platform.hostname()));
    vars.push(("PORTER_DEV_PLATFORM_KEYS", key_dir.display().to_string()));
    write_env_file(&args.env_file, &vars)?;

    println!("Porter is running at {base_url}");
    println!("  outbox:       {base_url}/_dev/outbox");
    println!("  moto:         {}", moto.endpoint());
    println!(
        "  identity provider: {} (Entra ID stand-in: {0}/{})",
        idp.base(),
        idp::DIRECTORY
    );
    println!(
        "  platform stand-in: hostname {}, client id {}, kid {}; key, password and certificate in {}",
        platform.hostname(),
        demo_key.client_id,
        demo_key.kid,
        key_dir.display()
    );
    println!(
        "  breached passwords: {} (stand-in; refuses e.g. \"{}\")",
        app.config.breached_passwords_url,
        porter_dev::breached::BREACHED[0]
    );
    match &dns {
        Some(d) => println!(
            "  DNS server:   {} (publish: porterctl dev dns set <name> <text>)",
            d.addr
        ),
        None => println!(
            "  DNS servers:  {:?} (from PORTER_DNS_SERVERS)",
            app.config.dns_servers
        ),
    }
    println!(
        "  environment:  {} (set -a; . {0}; set +a)",
        args.env_file.display()
    );
    if !args.no_demo {
        let admin = Email::parse("admin@demo.test")?;
        let reg = tenants::register_tenant(&app, "Demo Co", &admin, None, Timestamp::now()).await?;
        println!("Demo tenant \"Demo Co\" ({}), admin {admin}", reg.tenant);
        println!("  activation link: {}", reg.activation_link.expose_secret());
        demo_sso_tenant(&app, &idp).await?;
        demo_msp(&app).await?;
    }
    // The demo app that signs in with Porter (its OpenID provider), unless told not to.
    let demo_app = if args.no_demo {
        None
    } else {
        let demo = porter_dev::demo_app::DemoApp::start(&app).await?;
        println!(
            "Demo app (signs in with Porter, client {}): {}",
            demo.client,
            demo.base()
        );
        println!("  open it, choose \"Sign in with Porter\" and sign in as any demo person");
        Some(demo)
    };
    println!("Press Ctrl-C to stop.");
    let _ = std::io::stdout().flush();

    let mut dev = server::Dev::new(app, routes, moto.endpoint())?;
    if let Some(d) = &dns {
        dev = dev.with_dns(d.records());
    }
    let dev = Arc::new(dev);
    let service = server::router(dev).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    drop(demo_app);
    drop(moto);
    drop(idp);
    println!("Stopped.");
    Ok(())
}

/// "SSO Demo" (domain sso.test) signs in through the local provider, set up as an operator
/// would with `porterctl tenant create --sso-...`.
async fn demo_sso_tenant(app: &porter_shared::AppState, idp: &DevIdp) -> anyhow::Result<()> {
    use porter_shared::domain::SsoMethod;
    use porter_shared::tenants::{self, OperatorSso};
    let admin = Email::parse("admin@sso.test")?;
    let input = OperatorSso {
        method: SsoMethod::Oidc,
        client_id: idp::CLIENT_ID.into(),
        client_secret: secrecy::SecretString::from(idp::CLIENT_SECRET.to_owned()),
        discovery_url: Some(idp.discovery_url()),
        directory_id: None,
        domains: vec!["sso.test".into()],
        second_factor: porter_shared::domain::SecondFactorPolicy::UnlessProviderMfa,
    };
    let config = tenants::check_operator_config(app, &input).await?;
    let reg = tenants::register_tenant_with_sso(
        app,
        "SSO Demo",
        &admin,
        None,
        Some((config, input.client_secret)),
        Timestamp::now(),
    )
    .await?;
    println!(
        "Demo tenant \"SSO Demo\" ({}), domain sso.test, signs in through the local provider:",
        reg.tenant
    );
    println!("  sign in at /login as {admin}; at the provider any password works");
    Ok(())
}

/// "Demo IT", a managed service provider (admin msp@demo-it.test) that manages two
/// organizations, Contoso and Fabrikam.
async fn demo_msp(app: &porter_shared::AppState) -> anyhow::Result<()> {
    use porter_shared::domain::organization::{NewOrganization, DEFAULT_MAX_ORGANIZATIONS};
    use porter_shared::domain::{Action, AuditEvent, TenantId, DEFAULT_MAX_USERS};
    let admin = Email::parse("msp@demo-it.test")?;
    let now = Timestamp::now();
    let reg = tenants::register_tenant(app, "Demo IT", &admin, None, now).await?;
    app.store
        .set_msp(&reg.tenant, DEFAULT_MAX_ORGANIZATIONS)
        .await?;
    for name in ["Contoso", "Fabrikam"] {
        let org = NewOrganization {
            id: TenantId::generate(&mut rand::rngs::OsRng),
            msp: reg.tenant.clone(),
            name: name.to_owned(),
            max_users: DEFAULT_MAX_USERS,
            now,
        };
        let audit = AuditEvent::by_operator(
            &reg.tenant,
            Action::OrganizationCreate,
            Some(org.id.to_string()),
        )
        .detail(name);
        app.store
            .create_organization(&org, &audit, &mut rand::rngs::OsRng)
            .await?;
    }
    println!(
        "Demo MSP \"Demo IT\" ({}), admin {admin}, manages Contoso and Fabrikam:",
        reg.tenant
    );
    println!("  activation link: {}", reg.activation_link.expose_secret());
    println!(
        "  signed in: Configuration > Managed organizations, or POST /api/session/organization"
    );
    Ok(())
}

/// The demo key material people paste into API management.
fn write_demo_key(
    dir: &std::path::Path,
    key: &porter_dev::platform::DemoKey,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("demo-key.pem"), &key.private_key_pem)?;
    std::fs::write(dir.join("demo-key-password.txt"), &key.password)?;
    std::fs::write(dir.join("demo-certificate.pem"), &key.certificate_pem)?;
    Ok(())
}

fn write_env_file(path: &std::path::Path, vars: &[(&str, String)]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let body: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))
}
