//! What a person types in a search box, as an FTS5 query: every word a quoted prefix, so
//! no FTS syntax can be injected; and the column a list is sorted by, as one of the list's
//! own ORDER BY texts. The concept modules own their FTS tables and queries.

use crate::error::{Error, Result};

/// The ORDER BY text `sorts` gives the column name `sort` (leading `-` for descending),
/// so only constant texts reach the SQL; an unknown name is refused naming the `things`
/// listed.
pub(crate) fn order_by(
    sorts: &[(&str, &'static str)],
    sort: &str,
    things: &str,
) -> Result<&'static str> {
    sorts
        .iter()
        .find(|(k, _)| *k == sort)
        .map(|(_, o)| *o)
        .ok_or_else(|| {
            Error::invalid(
                "sort",
                format!("\"{sort}\" is not a column to sort {things} by"),
            )
        })
}

/// Builds a FTS5 prefix query from what a user typed: each word quoted (so no FTS
/// syntax can be injected) and made a prefix. `None` when there is nothing to search.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == '"')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(words.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_each_word_as_a_prefix() {
        assert_eq!(fts_query("  berz  jan ").unwrap(), "\"berz\"* \"jan\"*");
        assert_eq!(fts_query("a\"OR b").unwrap(), "\"a\"* \"OR\"* \"b\"*");
        assert!(fts_query("   ").is_none());
    }
}
