//! Encoded queries (`field=value^field2=value2`): how a value is written into one.

/// `value` for an encoded query, every `^` doubled. ServiceNow reads `^^` as a `^` of the
/// value; left single, a `^` in a value would end its clause and could add another
/// (`x^ORactive=true` matches every active record, `x^NQ…` opens a new OR group).
pub fn query_value(value: &str) -> String {
    value.replace('^', "^^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_caret_is_doubled_and_nothing_else_changes() {
        assert_eq!(query_value("plain-id_1"), "plain-id_1");
        assert_eq!(query_value("x^ORactive=true"), "x^^ORactive=true");
        assert_eq!(query_value("^^"), "^^^^");
        assert_eq!(query_value("a=b,c"), "a=b,c");
    }
}
