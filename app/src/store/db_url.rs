//! Database URLs: which backend one names, and how one is shown.

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with any password replaced by `***`, for logs and messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_database_url_is_never_shown() {
        assert_eq!(
            redacted("postgres://stepwise:s3cr%40t@db.internal:5432/stepwise?sslmode=require"),
            "postgres://stepwise:***@db.internal:5432/stepwise?sslmode=require"
        );
        assert_eq!(redacted("postgres://a:b:c@h/d"), "postgres://a:***@h/d");
        assert_eq!(redacted("postgres://only@h/d"), "postgres://only@h/d");
        assert_eq!(
            redacted("sqlite://data/stepwise.db"),
            "sqlite://data/stepwise.db"
        );
        assert_eq!(redacted("not a url"), "not a url");
        assert!(is_postgres("postgresql://h/d") && !is_postgres("sqlite://x"));
    }
}
