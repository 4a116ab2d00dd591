//! The start-up data tables, turned into statics at build time by
//! `build.rs` from `data/claims.json`, `data/clouds.json` and
//! `data/resources.json` (no JSON parsing when a command starts).

/// One row of `data/clouds.json`.
pub(crate) struct CloudRow {
    pub name: &'static str,
    pub display: &'static str,
    pub login_host: &'static str,
    pub issuer_hosts: &'static [&'static str],
    pub api_host: &'static str,
    pub graph_endpoint: &'static str,
}

/// One row of `data/resources.json`.
pub(crate) struct ResourceRow {
    pub id: crate::resource::ResourceKind,
    pub name: &'static str,
    pub app_id: &'static str,
    pub audiences: &'static [&'static str],
    pub scope: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/tables.rs"));
