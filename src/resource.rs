//! Which API a token's audience belongs to, from `data/resources.json`.

use serde::{Deserialize, Serialize};

/// The resource families the tool distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Mde,
    Graph,
    M365d,
    Arm,
    Other,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Mde => "mde",
            ResourceKind::Graph => "graph",
            ResourceKind::M365d => "m365d",
            ResourceKind::Arm => "arm",
            ResourceKind::Other => "other",
        }
    }
}

/// One row of `data/resources.json` (compiled to a static by `build.rs`).
#[derive(Debug)]
pub struct Resource {
    pub id: ResourceKind,
    pub name: &'static str,
    pub app_id: &'static str,
    pub audiences: &'static [&'static str],
    /// The `.default` scope to request for this resource.
    pub scope: &'static str,
}

static RESOURCES: &[Resource] = crate::tables::RESOURCES;

/// The WindowsDefenderATP application id.
pub const MDE_APP_ID: &str = "fc780465-2017-40d4-a0c5-307022471b92";
/// The scope an app requests for the MDE API.
pub const MDE_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

/// An audience as recognised: surrounding space and trailing slashes dropped
/// (case is ignored by the comparison).
fn norm(aud: &str) -> &str {
    aud.trim().trim_end_matches('/')
}

/// True when `aud` names `known` give or take letter case, surrounding space
/// and trailing slashes: enough to say which API a token was meant for,
/// not enough to accept it (that is [`same_audience`]).
fn resembles(aud: &str, known: &str) -> bool {
    norm(aud).eq_ignore_ascii_case(norm(known))
}

/// The known resource an audience value belongs to, if any (recognised
/// loosely, see [`resembles`]).
pub fn lookup(aud: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.audiences.iter().any(|x| resembles(aud, x)))
}

/// Classify an audience value.
pub fn classify(aud: &str) -> ResourceKind {
    lookup(aud).map_or(ResourceKind::Other, |r| r.id)
}

/// The resource record of one kind.
pub fn get(kind: ResourceKind) -> Option<&'static Resource> {
    RESOURCES.iter().find(|r| r.id == kind)
}

/// Every audience value that means "the MDE API".
pub fn mde_audiences() -> &'static [&'static str] {
    get(ResourceKind::Mde)
        .expect("data/resources.json has the mde resource")
        .audiences
}

/// True when `aud` equals `expected` the way Microsoft.IdentityModel
/// compares audiences (`AudiencesMatchIgnoringTrailingSlash`): ordinally
/// (letter case counts), or one is the other plus one trailing slash.
pub fn same_audience(aud: &str, expected: &str) -> bool {
    fn plus_slash(longer: &str, shorter: &str) -> bool {
        longer.len() == shorter.len() + 1 && longer.ends_with('/') && longer.starts_with(shorter)
    }
    aud == expected || plus_slash(aud, expected) || plus_slash(expected, aud)
}

/// The known audience `aud` resembles without being equal to it (another
/// letter case, surrounding space, extra slashes), for explaining a mismatch.
pub fn near_miss<'a>(aud: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .find(|k| resembles(aud, k) && !same_audience(aud, k))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_file_loads_and_classifies() {
        assert_eq!(
            classify("https://api.securitycenter.microsoft.com/"),
            ResourceKind::Mde
        );
        assert_eq!(
            classify("https://API.securitycenter.windows.com"),
            ResourceKind::Mde
        );
        assert_eq!(classify(MDE_APP_ID), ResourceKind::Mde);
        assert_eq!(
            classify("https://api.security.microsoft.com"),
            ResourceKind::M365d
        );
        assert_eq!(
            classify("00000003-0000-0000-c000-000000000000"),
            ResourceKind::Graph
        );
        assert_eq!(classify("https://management.azure.com/"), ResourceKind::Arm);
        assert_eq!(classify("api://something"), ResourceKind::Other);
        assert!(mde_audiences().len() >= 15);
    }

    #[test]
    fn audiences_are_accepted_as_identitymodel_compares_them() {
        let mde = "https://api.securitycenter.microsoft.com";
        assert!(same_audience(mde, mde));
        assert!(same_audience(
            "https://api.securitycenter.microsoft.com/",
            mde
        ));
        assert!(same_audience(
            mde,
            "https://api.securitycenter.microsoft.com/"
        ));
        for other in [
            "https://API.securitycenter.microsoft.com",
            " https://api.securitycenter.microsoft.com ",
            "https://api.securitycenter.microsoft.com//",
            "FC780465-2017-40D4-A0C5-307022471B92",
        ] {
            assert!(!same_audience(other, mde), "{other}");
            assert_eq!(classify(other), ResourceKind::Mde, "{other}");
            assert!(near_miss(other, mde_audiences()).is_some(), "{other}");
        }
        assert_eq!(near_miss(mde, mde_audiences()), None);
        // One slash more than the other, whichever has it, as IdentityModel:
        // a configured audience ending in / matches a token's with two.
        assert!(same_audience("https://my.api/x//", "https://my.api/x/"));
        assert!(same_audience("https://my.api/x/", "https://my.api/x//"));
        assert!(!same_audience("https://my.api/x//", "https://my.api/x"));
        assert!(!same_audience("https://my.api/xy", "https://my.api/x/"));
    }
}
