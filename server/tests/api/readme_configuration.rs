//! The README's Configuration table against the program: every flag and variable it names
//! is one `itsm-bridge --help` lists, and every flag `--help` lists is in the table.

use crate::helpers::itsm_bridge_command;
use std::collections::BTreeMap;

/// The rows of the table under "## Configuration": (flag, environment variable).
fn readme_rows() -> Vec<(String, String)> {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("README has a Configuration section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|line| line.starts_with('|') && !line.starts_with("|---"))
        .skip(1) // the header
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (
                cells[1].trim_matches('`').to_string(),
                cells[2].trim_matches('`').to_string(),
            )
        })
        .collect()
}

/// The options `--help` lists, each with the variable its entry names (`[env: NAME=…]`).
fn help_options(help: &str) -> BTreeMap<String, Option<String>> {
    let mut options = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        let flag = trimmed
            .strip_prefix("-V, ")
            .or_else(|| trimmed.strip_prefix("-h, "))
            .unwrap_or(trimmed);
        if line.starts_with("  ") && flag.starts_with("--") {
            let name: String = flag
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '=')
                .collect();
            options.insert(name.clone(), None);
            current = Some(name);
        }
        if let (Some(name), Some(at)) = (&current, line.find("[env: ")) {
            let variable: String = line[at + 6..]
                .chars()
                .take_while(|c| *c != '=' && *c != ']')
                .collect();
            options.insert(name.clone(), Some(variable));
        }
    }
    options.remove("--help");
    options.remove("--version");
    options
}

#[test]
fn the_readme_configuration_table_matches_the_help() {
    let output = itsm_bridge_command().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let options = help_options(&help);
    assert!(options.len() > 10, "no options read from: {help}");

    let rows = readme_rows();
    assert!(rows.len() > 10, "the table was not found: {rows:?}");
    let mut problems = Vec::new();
    for (flag, variable) in &rows {
        if flag.is_empty() {
            // Only the secret key has no flag: a flag would show in the process list.
            if variable != server::configuration::SECRET_KEY_ENV {
                problems.push(format!("the row of {variable} names no flag"));
            }
            continue;
        }
        match options.get(flag) {
            None => problems.push(format!("README names {flag}, which --help does not list")),
            Some(listed) if listed.as_deref() != Some(variable.as_str()) => problems.push(format!(
                "README gives {flag} the variable {variable}; --help: {listed:?}"
            )),
            Some(_) => {}
        }
    }
    for flag in options.keys() {
        if !rows.iter().any(|(row, _)| row == flag) {
            problems.push(format!(
                "--help lists {flag}, which README's table does not"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
