//! `servicenow-sim --listen ADDR`: a ServiceNow instance for tests and demos.

use clap::Parser;
use std::net::SocketAddr;

#[derive(Parser)]
#[command(
    name = "servicenow-sim",
    about = "A ServiceNow instance for tests and demos."
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    listen: SocketAddr,
    /// Access token lifetime in seconds (ServiceNow's default is 1800).
    #[arg(long, default_value_t = 1800)]
    token_lifetime: i64,
    /// Serve https with a new self-signed certificate (real instances are https only).
    #[arg(long)]
    https: bool,
    /// With --https: where to write the certificate (PEM) that clients must trust.
    #[arg(long, requires = "https")]
    cert_out: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let sim = if args.https {
        let (sim, cert) = servicenow_sim::start_https(args.listen, args.token_lifetime).await?;
        if let Some(path) = &args.cert_out {
            std::fs::write(path, cert)?;
        }
        sim
    } else {
        servicenow_sim::start(args.listen, args.token_lifetime).await?
    };
    println!(
        "servicenow-sim on {} (user {} / {}, client {} / {}, group {}, user sys_id {})",
        sim.url(),
        servicenow_sim::USER_NAME,
        servicenow_sim::USER_PASSWORD,
        servicenow_sim::CLIENT_ID,
        servicenow_sim::CLIENT_SECRET,
        servicenow_sim::GROUP_SYS_ID,
        servicenow_sim::USER_SYS_ID
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
