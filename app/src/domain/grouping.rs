//! `Grouping`: whether the engine opens one ticket per failing resource or per failing
//! control.

use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    /// One ticket per failing resource, listing every control it fails.
    #[default]
    Resources,
    /// One ticket per failing control, listing every resource that fails it.
    Controls,
}

impl Grouping {
    pub const ALL: [Grouping; 2] = [Grouping::Resources, Grouping::Controls];

    /// The value sent by the form and kept in the database.
    pub fn value(self) -> &'static str {
        match self {
            Grouping::Resources => "resources",
            Grouping::Controls => "controls",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grouping::Resources => "By resources",
            Grouping::Controls => "By controls",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            Grouping::Resources => "Tickets are created per resource that fails.",
            Grouping::Controls => "Tickets are created per control that fails.",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|g| g.value() == raw.trim())
            .ok_or_else(|| "Choose By resources or By controls.".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_values_and_nothing_else() {
        assert_eq!(Grouping::parse("resources"), Ok(Grouping::Resources));
        assert_eq!(Grouping::parse("controls"), Ok(Grouping::Controls));
        assert!(Grouping::parse("").is_err());
        assert!(Grouping::parse("Resources ").is_err());
        assert!(Grouping::parse("both").is_err());
    }

    #[test]
    fn default_is_by_resources() {
        assert_eq!(Grouping::default(), Grouping::Resources);
    }
}
