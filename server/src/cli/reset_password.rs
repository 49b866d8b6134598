//! `itsm-bridge admin reset-password USER`: a forgotten password, reset on the server's
//! machine.

use anyhow::Context;
use server::configuration::Config;
use server::{auth, database};
use std::io::BufRead;

/// Asks for the new password on a terminal (twice, without echo), else reads one line of
/// standard input; never from the command line, where the process list would show it.
pub async fn run(config: &Config, user: &str) -> anyhow::Result<()> {
    let pool = database::open_existing(&config.database_path()?).await?;
    let password = read_new_password(user)?;
    auth::reset_password(&pool, user, &password).await?;
    pool.close().await;
    println!("The password of {user} was reset; their sessions were ended.");
    Ok(())
}

fn read_new_password(user: &str) -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "New password for {user} (at least 12 characters): "
        ))
        .context("Failed to read the new password from the terminal")?;
        let second = rpassword::prompt_password("The same password again: ")
            .context("Failed to read the new password from the terminal")?;
        if first != second {
            anyhow::bail!("The two passwords differ; nothing was changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("Failed to read the new password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
