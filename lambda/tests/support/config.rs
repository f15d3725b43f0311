//! The configuration the suites build from a list of variables, as the function reads its environment
//! (a later entry of a name wins). Included by path by this crate's suites and by tests/tests/s3_faults.rs.

use imgresize::config::Config;

pub fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap_or_else(|e| panic!("configuration {vars:?}: {e}"))
}
