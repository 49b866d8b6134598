//! `servicenow-sim --listen ADDR`: a ServiceNow instance for tests and demos.

use anyhow::Context;
use clap::Parser;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// With --https: where to write the certificate (PEM) that clients must trust. Default:
    /// servicenow-sim-PORT.pem in the temporary folder. Its folder is created if missing.
    #[arg(long, requires = "https")]
    cert_out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let (sim, cert_file) = if args.https {
        let (sim, cert) = servicenow_sim::start_https(args.listen, args.token_lifetime).await?;
        let path = args.cert_out.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("servicenow-sim-{}.pem", sim.address.port()))
        });
        let path = write_certificate(&path, &cert)?;
        (sim, Some(path))
    } else {
        (
            servicenow_sim::start(args.listen, args.token_lifetime).await?,
            None,
        )
    };
    println!("{}", banner(&sim.url(), cert_file.as_deref()));
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Writes the certificate to `path` (creating its folder) and returns its absolute path,
/// which the banner prints: a relative one would mean nothing to a server started elsewhere.
fn write_certificate(path: &Path, pem: &str) -> anyhow::Result<PathBuf> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("Failed to create {}", folder.display()))?;
    }
    std::fs::write(path, pem)
        .with_context(|| format!("Failed to write the certificate to {}", path.display()))?;
    Ok(std::fs::canonicalize(path)?)
}

/// What the simulator prints at start: where it is, its accounts, and over https where its
/// certificate is and how itsm-bridge is told to trust it.
fn banner(url: &str, cert_file: Option<&Path>) -> String {
    let mut text = format!(
        "servicenow-sim on {url} (user {} / {}, client {} / {}, group {}, user sys_id {})",
        servicenow_sim::USER_NAME,
        servicenow_sim::USER_PASSWORD,
        servicenow_sim::CLIENT_ID,
        servicenow_sim::CLIENT_SECRET,
        servicenow_sim::GROUP_SYS_ID,
        servicenow_sim::USER_SYS_ID
    );
    if let Some(path) = cert_file {
        let path = path.display();
        text.push_str(&format!(
            "\nIts self-signed certificate is in {path}; itsm-bridge trusts it when started \
             with --servicenow-ca-file {path} (or ITSM_BRIDGE_SERVICENOW_CA_FILE={path})."
        ));
    }
    text
}
