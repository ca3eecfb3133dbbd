//! The rules every text field a person fills in follows: trimmed, required or optional,
//! at most so many characters, no control characters. A broken rule is an
//! `Error::invalid_rule` naming the field, the rule and its values; nothing here touches
//! the database.

use crate::error::{Error, Result};

/// Trims a text; empty becomes `None`.
pub(crate) fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A required text field: trimmed, non-empty, at most `max` characters.
pub(crate) fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid_rule(
            field,
            "required",
            serde_json::Value::Null,
            "is required; it cannot be empty",
        ));
    }
    check_len(field, v, max)?;
    Ok(v.to_string())
}

/// An optional text field: trimmed, at most `max` characters.
pub(crate) fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    let v = clean(value);
    if let Some(v) = &v {
        check_len(field, v, max)?;
    }
    Ok(v)
}

fn check_len(field: &str, v: &str, max: usize) -> Result<()> {
    let n = v.chars().count();
    if n > max {
        return Err(Error::invalid_rule(
            field,
            "too_long",
            serde_json::json!({ "n": n, "max": max }),
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(Error::invalid_rule(
            field,
            "control_chars",
            serde_json::Value::Null,
            "contains control characters (tabs, line breaks); remove them",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_fields_are_trimmed_and_checked() {
        assert_eq!(required("name", "  Jānis ", 10).unwrap(), "Jānis");
        assert_eq!(
            required("name", "  ", 10).unwrap_err().code(),
            "invalid_input"
        );
        assert!(required("name", "ābcdefghijk", 10).is_err());
        assert!(optional("notes", Some("a\nb"), 10).is_err());
        assert_eq!(optional("notes", Some("   "), 10).unwrap(), None);
    }

    #[test]
    fn a_broken_rule_is_named_with_its_values_for_the_front_ends() {
        let d = required("name", "ābcdefghijk", 10).unwrap_err().details();
        assert_eq!(d["field"], "name");
        assert_eq!(d["rule"], "too_long");
        assert_eq!(d["vars"], serde_json::json!({ "n": 11, "max": 10 }));
        let d = required("name", " ", 10).unwrap_err().details();
        assert_eq!(d["rule"], "required");
        let d = optional("notes", Some("a\tb"), 10).unwrap_err().details();
        assert_eq!(d["rule"], "control_chars");
    }
}
