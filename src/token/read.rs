//! Reading a JSON object's text in one pass: the members the token model
//! wants, each straight into its type, and every other member skipped
//! without being built.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;

use super::Claims;

/// One pass over a JSON object's text: the value of each wanted member
/// (the last one when a name repeats, as a JSON map keeps it) and, when
/// asked, every member name in order. Other members are skipped unparsed,
/// so decoding costs about one scan of the text.
pub(super) struct Picked<'a, const N: usize> {
    pub(super) values: [Option<Value>; N],
    pub(super) names: Vec<Cow<'a, str>>,
    /// Bit `i` set: the member of slot `i` was given more than once.
    pub(super) repeated: u64,
}

/// Skips any value without building it, nesting included, under the
/// parser's depth limit (serde's `IgnoredAny` skips without that limit,
/// and a payload the report could not parse must not decode here).
struct Skip;
impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(Skip)
    }
}
impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<(), A::Error> {
        while a.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<(), A::Error> {
        while m.next_key_seed(Skip)?.is_some() {
            m.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A member name, borrowed from the text unless it has escapes.
struct Name;
impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_str(Name)
    }
}
impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// `index` maps a member name to its slot in `values` (or `None` to skip it).
pub(super) fn pick<'a, const N: usize>(
    json: &'a str,
    index: fn(&str) -> Option<usize>,
    keep_names: bool,
) -> serde_json::Result<Picked<'a, N>> {
    struct Members<const N: usize> {
        index: fn(&str) -> Option<usize>,
        keep_names: bool,
    }
    impl<'de, const N: usize> Visitor<'de> for Members<N> {
        type Value = Picked<'de, N>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut m: A,
        ) -> std::result::Result<Picked<'de, N>, A::Error> {
            const { assert!(N <= 64, "Picked::repeated has a bit per slot") };
            let mut out = Picked {
                values: std::array::from_fn(|_| None),
                // AAD headers have four or five members: one allocation.
                names: Vec::with_capacity(if self.keep_names { 8 } else { 0 }),
                repeated: 0,
            };
            while let Some(name) = m.next_key_seed(Name)? {
                match (self.index)(&name).filter(|i| *i < N) {
                    Some(i) => {
                        if out.values[i].is_some() {
                            out.repeated |= 1 << i;
                        }
                        out.values[i] = Some(m.next_value::<Value>()?);
                    }
                    None => m.next_value_seed(Skip)?,
                }
                if self.keep_names {
                    out.names.push(name);
                }
            }
            Ok(out)
        }
    }

    let mut de = serde_json::Deserializer::from_str(json);
    let picked = de.deserialize_map(Members::<N> { index, keep_names })?;
    de.end()?;
    Ok(picked)
}

/// Where one claim of [`super::CLAIMS`] goes in [`Claims`], and how it is read.
pub(super) enum Field<'a> {
    /// A string, or a number as JSON writes it.
    Text(&'a mut Option<String>),
    /// A NumericDate.
    Time(&'a mut Option<i64>),
    /// A string or an array of strings (`aud`).
    List(&'a mut Vec<String>),
    /// An array of strings; a single string is read as one item but is
    /// the wrong type (`roles`, `wids`).
    Array(&'a mut Vec<String>),
    /// Only whether it is there counts (`nonce`, `at_hash`, ...).
    Marker,
}

/// What [`claims`] learnt besides the field values, one bit per slot of
/// [`super::CLAIMS`].
pub(super) struct ClaimBits {
    /// Given at least once.
    pub seen: u64,
    /// Given more than once (the field holds the last value).
    pub repeated: u64,
    /// Its (last) value has the wrong JSON type or is out of range.
    pub bad: u64,
}

/// Read a claims set's text in one pass into `c`'s typed fields: each
/// wanted claim straight into its field ([`super::claim_field`]; no
/// intermediate JSON value), the rest skipped.
pub(super) fn claims(json: &str, c: &mut Claims) -> serde_json::Result<ClaimBits> {
    /// Store a seed's value in its field; whether it had the right type.
    fn put<T>(field: &mut T, (value, ok): (T, bool)) -> bool {
        *field = value;
        ok
    }
    struct Members<'c>(&'c mut Claims);
    impl<'de> Visitor<'de> for Members<'_> {
        type Value = ClaimBits;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(
            self,
            mut m: A,
        ) -> std::result::Result<ClaimBits, A::Error> {
            const { assert!(super::CLAIMS.len() <= 64, "ClaimBits has a bit per slot") };
            let mut b = ClaimBits {
                seen: 0,
                repeated: 0,
                bad: 0,
            };
            while let Some(name) = m.next_key_seed(Name)? {
                let Some((i, f)) = super::claim_slot(&name)
                    .and_then(|i| Some((i, super::claim_field(self.0, i)?)))
                else {
                    m.next_value_seed(Skip)?;
                    continue;
                };
                let bit = 1u64 << i;
                if b.seen & bit != 0 {
                    b.repeated |= bit;
                }
                b.seen |= bit;
                let ok = match f {
                    Field::Text(f) => put(f, m.next_value_seed(Text)?),
                    Field::Time(f) => put(f, m.next_value_seed(Time)?),
                    Field::List(f) => put(
                        f,
                        m.next_value_seed(List {
                            one_is_wrong: false,
                        })?,
                    ),
                    Field::Array(f) => put(f, m.next_value_seed(List { one_is_wrong: true })?),
                    Field::Marker => {
                        m.next_value_seed(Skip)?;
                        true
                    }
                };
                if ok {
                    b.bad &= !bit;
                } else {
                    b.bad |= bit;
                }
            }
            Ok(b)
        }
    }

    let mut de = serde_json::Deserializer::from_str(json);
    let bits = de.deserialize_map(Members(c))?;
    de.end()?;
    Ok(bits)
}

/// The visits of the JSON types no claim seed takes: booleans, null,
/// objects and, unless the seed reads them (`no seq`), arrays. The value is
/// skipped, nesting included and under the parser's depth limit, and read
/// as `$wrong`.
macro_rules! wrong_visits {
    ($wrong:expr) => {
        wrong_visits!($wrong; no seq);
        fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> std::result::Result<Self::Value, A::Error> {
            Skip.visit_seq(a)?;
            Ok($wrong)
        }
    };
    ($wrong:expr; no seq) => {
        fn visit_bool<E>(self, _: bool) -> std::result::Result<Self::Value, E> {
            Ok($wrong)
        }
        fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
            Ok($wrong)
        }
        fn visit_map<A: MapAccess<'de>>(self, m: A) -> std::result::Result<Self::Value, A::Error> {
            Skip.visit_map(m)?;
            Ok($wrong)
        }
    };
}

/// Implements `DeserializeSeed` for a unit seed that is its own visitor.
macro_rules! seed {
    ($seed:ty => $value:ty) => {
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = $value;
            fn deserialize<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> std::result::Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// A claim read as text: a string, or a number written as JSON writes it
/// (`serde_json::Number`'s text). Anything else: `None`, the wrong type.
struct Text;
seed!(Text => (Option<String>, bool));

impl<'de> Visitor<'de> for Text {
    type Value = (Option<String>, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok((Some(v.to_owned()), true))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Self::Value, E> {
        Ok((Some(v), true))
    }
    fn visit_i64<E>(self, n: i64) -> std::result::Result<Self::Value, E> {
        Ok((Some(serde_json::Number::from(n).to_string()), true))
    }
    fn visit_u64<E>(self, n: u64) -> std::result::Result<Self::Value, E> {
        Ok((Some(serde_json::Number::from(n).to_string()), true))
    }
    fn visit_f64<E>(self, n: f64) -> std::result::Result<Self::Value, E> {
        Ok(match serde_json::Number::from_f64(n) {
            Some(n) => (Some(n.to_string()), true),
            None => (None, false),
        })
    }
    wrong_visits!((None, false));
}

/// The latest NumericDate mdeauth reads: 9999-12-31T23:59:59Z.
const LAST_TIME: i64 = 253_402_300_799;

/// A NumericDate: seconds since the epoch. Azure AD sends integers; a
/// fraction is allowed by RFC 7519 and cut off. Anything out of range
/// (before 1970, after 9999) or not a number: `None`, the wrong type.
struct Time;
seed!(Time => (Option<i64>, bool));

impl Time {
    fn seconds(n: i64) -> (Option<i64>, bool) {
        if (0..=LAST_TIME).contains(&n) {
            (Some(n), true)
        } else {
            (None, false)
        }
    }
}

impl<'de> Visitor<'de> for Time {
    type Value = (Option<i64>, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number of seconds")
    }
    fn visit_i64<E>(self, n: i64) -> std::result::Result<Self::Value, E> {
        Ok(Time::seconds(n))
    }
    fn visit_u64<E>(self, n: u64) -> std::result::Result<Self::Value, E> {
        Ok(i64::try_from(n).map_or((None, false), Time::seconds))
    }
    fn visit_f64<E>(self, n: f64) -> std::result::Result<Self::Value, E> {
        Ok(if n.is_finite() && n.abs() < 1e15 {
            Time::seconds(n.trunc() as i64)
        } else {
            (None, false)
        })
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Self::Value, E> {
        Ok((None, false))
    }
    wrong_visits!((None, false));
}

/// A list of strings: an array of them, or one string. At the first item
/// that is not a string the list ends there (the rest is skipped) and is
/// the wrong type. `one_is_wrong`: a single string is read as one item but
/// is the wrong type (`roles` and `wids` are always arrays).
struct List {
    one_is_wrong: bool,
}

seed!(List => (Vec<String>, bool));

impl<'de> Visitor<'de> for List {
    type Value = (Vec<String>, bool);
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok((vec![v.to_owned()], !self.one_is_wrong))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0));
        let mut ok = true;
        while let Some(item) = a.next_element_seed(Item)? {
            match item {
                Some(s) if ok => out.push(s),
                Some(_) => {}
                None => ok = false,
            }
        }
        Ok((out, ok))
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok((Vec::new(), false))
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok((Vec::new(), false))
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok((Vec::new(), false))
    }
    wrong_visits!((Vec::new(), false); no seq);
}

/// One item of a [`List`]: a string, or `None` (skipped) for anything else.
struct Item;
seed!(Item => Option<String>);

impl<'de> Visitor<'de> for Item {
    type Value = Option<String>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    wrong_visits!(None);
}
