//! `hts-gateway serve`: the gateway. `--demo` runs it on the embedded default: a SQLite file,
//! development certificates (made on first run in certs/), the demo data set and a demo partner.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use crate::auth::HashedPassword;
use crate::payer::load::{load_claims, load_members, load_providers};
use crate::server::{self, ServeConfig, tls};
use crate::store::Store;

/// The demo partner's sign-in, printed at start-up and documented in the README.
pub const DEMO_USER: &str = "demo";
pub const DEMO_PASSWORD: &str = "demo-password-2026";
/// The demo partner's SenderID and provider ID (the demo hospital in fixtures/plan).
pub const DEMO_SENDER_ID: &str = "110048577A";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Run on the embedded default: SQLite file hts-gateway-demo.db, development certificates
    /// in certs/, the demo data set, and the demo partner (user demo).
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub config: ServeConfig,
}

pub fn run(args: ServeArgs) -> ExitCode {
    init_logging();
    let rt = match super::multi_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match rt.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hts-gateway serve: {e}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HTS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if std::env::var("HTS_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn serve(mut args: ServeArgs) -> Result<(), String> {
    let mut fallback = None;
    if args.demo {
        let certs =
            tls::ensure_dev_certificates(Path::new("certs"), &[]).map_err(|e| e.to_string())?;
        args.config
            .database
            .get_or_insert_with(|| "sqlite:hts-gateway-demo.db".into());
        args.config
            .listen
            .get_or_insert(SocketAddr::from(([127, 0, 0, 1], 8443)));
        prepare_demo(args.config.database.as_deref().unwrap_or_default()).await?;
        fallback = Some(certs);
    }
    let settings = args.config.resolve(
        fallback
            .as_ref()
            .map(|c| (c.cert.as_path(), c.key.as_path())),
    )?;
    let running = server::start(settings.clone())
        .await
        .map_err(|e| e.to_string())?;
    let url = format!("https://{}/core", running.addr);
    println!(
        "hts-gateway listening on {url} (database {})",
        settings.database
    );
    println!("  WSDL: {url}?wsdl");
    if let Some(a) = running.metrics_addr {
        println!("  metrics: http://{a}/metrics");
    }
    if let Some(c) = &fallback {
        println!(
            "  development CA (trust it in your client): {}",
            c.ca.display()
        );
        println!(
            "  demo partner: user {DEMO_USER:?}, password {DEMO_PASSWORD:?}, SenderID {DEMO_SENDER_ID:?}, ReceiverID {:?}",
            settings
                .receiver_ids
                .first()
                .map(String::as_str)
                .unwrap_or("")
        );
        println!("  try: scripts/demo-request (a 270 for member 100000000001 through curl)");
    }
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("waiting for Ctrl-C: {e}"))?;
    println!("shutting down: finishing requests in flight");
    running.shutdown().await;
    Ok(())
}

/// Loads the demo data set into an empty database and adds the demo partner if missing. The
/// data is compiled in, so `serve --demo` works from any folder.
async fn prepare_demo(database: &str) -> Result<(), String> {
    let store = Store::open(database)
        .await
        .map_err(|e| format!("{database}: {e}"))?;
    let counts = store.plan_counts().await.map_err(|e| e.to_string())?;
    if counts.members == 0 {
        let err = |e: crate::payer::load::LoadError| format!("demo data: {e}");
        load_providers(
            &store,
            include_bytes!("../../fixtures/plan/providers.csv").as_slice(),
        )
        .await
        .map_err(err)?;
        load_members(
            &store,
            include_bytes!("../../fixtures/plan/members.csv").as_slice(),
        )
        .await
        .map_err(err)?;
        load_claims(
            &store,
            include_bytes!("../../fixtures/plan/claims.csv").as_slice(),
        )
        .await
        .map_err(err)?;
    }
    if store
        .user_for_auth(DEMO_USER)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        let hash = HashedPassword::new(DEMO_PASSWORD).map_err(|e| e.to_string())?;
        store
            .add_organization("Demo Community Hospital", DEMO_USER, &hash)
            .await
            .map_err(|e| e.to_string())?;
        store
            .add_sender_id(DEMO_USER, DEMO_SENDER_ID)
            .await
            .map_err(|e| e.to_string())?;
        store
            .add_provider_id(DEMO_USER, DEMO_SENDER_ID)
            .await
            .map_err(|e| e.to_string())?;
    }
    store.close().await;
    Ok(())
}
