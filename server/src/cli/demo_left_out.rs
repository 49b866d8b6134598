//! `itsm-bridge demo` in a build without the `demo` feature (no simulator inside).

pub async fn run(
    _config: &server::configuration::Config,
    _folder: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    anyhow::bail!(
        "This itsm-bridge was built without the demo (cargo's --no-default-features); build it \
         with the default features to run `itsm-bridge demo`"
    )
}
