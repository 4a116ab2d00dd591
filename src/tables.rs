//! The start-up data tables: `build.rs` turns `data/claims.json`,
//! `data/clouds.json` and `data/resources.json` into the statics included
//! here (no JSON parsing, and no copying, when a command starts).

include!(concat!(env!("OUT_DIR"), "/tables.rs"));
