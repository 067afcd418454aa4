//! Printing the effective configuration as TOML (`hcp config show`), secrets redacted.
//!
//! The output is itself a valid config file: loading it again gives the same [`Config`]
//! (secrets aside, which print as `[redacted]` and are refused if loaded back).

use crate::config::Config;

impl Config {
    /// The effective configuration as TOML; secrets print as `[redacted]`.
    pub fn to_toml(&self) -> String {
        let header = "# Effective HCP configuration (defaults, file, environment and flags merged).\n\
                      # Secrets are shown as \"[redacted]\".\n\n";
        match toml::to_string(self) {
            Ok(body) => format!("{header}{body}"),
            Err(err) => format!("# cannot render the configuration as TOML: {err}\n"),
        }
    }
}
