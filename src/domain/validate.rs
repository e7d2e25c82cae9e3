//! Input validation: each function takes the field's path (for the error) and returns the
//! cleaned value, or `BAD_USER_INPUT` naming the field.

use super::markdown::slugify;
use crate::error::{AppError, AppResult};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 1000;
/// Longest slug, in characters.
pub const MAX_SLUG_CHARS: usize = 100;
/// Longest URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest category, author or tag name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest author bio, in characters.
pub const MAX_BIO_CHARS: usize = 2000;
/// Most tags on one article.
pub const MAX_TAGS: usize = 20;

/// A required one-line text of 1 to `max` characters (trimmed).
pub fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    let n = value.chars().count();
    if n > max {
        return Err(AppError::invalid(
            field,
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional text: blank becomes `None`.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// A markdown body of at most `max_bytes`.
pub fn body(field: &str, value: &str, max_bytes: usize) -> AppResult<String> {
    if value.len() > max_bytes {
        return Err(AppError::invalid(
            field,
            format!("is {} bytes; at most {max_bytes} are allowed", value.len()),
        ));
    }
    Ok(value.to_owned())
}

/// A slug: lower-case letters and digits of any script separated by single hyphens.
pub fn slug(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_SLUG_CHARS || slugify(value) != value {
        return Err(AppError::invalid(
            field,
            format!(
                "`{value}` is not a slug: use 1 to {MAX_SLUG_CHARS} lower-case letters or digits separated by single hyphens"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// An optional absolute http(s) URL.
pub fn url(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = value.len() <= MAX_URL_BYTES
        && url::Url::parse(value)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    if !ok {
        return Err(AppError::invalid(
            field,
            format!("must be an absolute http(s) URL of at most {MAX_URL_BYTES} bytes"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Tag slugs: at most `MAX_TAGS`, case-folded, duplicates dropped, order kept.
pub fn tag_slugs(field: &str, values: &[String]) -> AppResult<Vec<String>> {
    if values.len() > MAX_TAGS {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_TAGS} tags are allowed"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let s = slugify(v);
        if s.is_empty() {
            return Err(AppError::invalid(field, format!("`{v}` is not a tag slug")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_must_already_be_normal() {
        assert!(slug("s", "hello-world").is_ok());
        assert!(slug("s", "互联网大厂").is_ok());
        for bad in ["Hello", "a--b", "-a", "a b", "", "a_b"] {
            let err = slug("input.slug", bad).unwrap_err();
            assert_eq!(err.code(), "BAD_USER_INPUT", "{bad:?}");
        }
    }

    #[test]
    fn text_limits_are_exact() {
        assert!(text("t", &"字".repeat(MAX_TITLE_CHARS), MAX_TITLE_CHARS).is_ok());
        assert!(text("t", &"字".repeat(MAX_TITLE_CHARS + 1), MAX_TITLE_CHARS).is_err());
        assert!(text("t", "   ", MAX_TITLE_CHARS).is_err());
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(url("u", Some("https://a.example/x.png")).unwrap().is_some());
        assert!(url("u", None).unwrap().is_none());
        for bad in [
            "javascript:alert(1)",
            "/relative.png",
            "ftp://a/b",
            "https://",
        ] {
            assert!(url("u", Some(bad)).is_err(), "{bad}");
        }
    }
}
