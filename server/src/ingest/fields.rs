//! Lenient typed fields for the parsers' structs. A scanner's finding is read into a struct
//! of only the fields ingestion uses: unknown fields are skipped by serde without being
//! materialised (`IgnoredAny`), and a field of an unexpected type is consumed the same way
//! and remembered as such, so a parser can still say "must be a string" at the right place
//! instead of failing the whole body at a line and column.

use serde::de::{
    Deserialize, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
    value::MapAccessDeserializer,
};
use serde::{Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// The scalar `visit_*` methods of a lenient visitor, each giving `$value`.
macro_rules! scalars_are {
    ($value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// Where a string is expected.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Text {
    #[default]
    Missing,
    Str(String),
    /// Present but not a string (null, a number, an object…).
    NotString,
}

impl Text {
    /// The string, if it is one (as `serde_json::Value::as_str`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string if it is one and not empty.
    pub fn non_empty(&self) -> Option<&str> {
        self.as_str().filter(|s| !s.is_empty())
    }

    /// The string, or an empty one.
    pub fn or_empty(&self) -> String {
        self.as_str().unwrap_or_default().to_string()
    }
}

/// Written back as the string, or `null` (read back as `NotString`: neither is a string).
impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Text::Str(text) => s.serialize_str(text),
            _ => s.serialize_unit(),
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                skip_seq(seq).map(|_| Text::NotString)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                skip_map(map).map(|_| Text::NotString)
            }
            scalars_are!(Text::NotString);
        }
        d.deserialize_any(TextVisitor)
    }
}

/// Where a whole number is expected: `None` for anything else (as `Value::as_i64`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Int(pub Option<i64>);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl<'de> Visitor<'de> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Int, E> {
                Ok(Int(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_unit<E>(self) -> Result<Int, E> {
                Ok(Int(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Int, A::Error> {
                skip_seq(seq).map(|_| Int(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Int, A::Error> {
                skip_map(map).map(|_| Int(None))
            }
        }
        d.deserialize_any(IntVisitor)
    }
}

/// A time: RFC 3339, or seconds or milliseconds since the epoch; `None` for anything else.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Time(pub Option<i64>);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl<'de> Visitor<'de> for TimeVisitor {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Time, E> {
                Ok(Time(Some(super::model::epoch_seconds(v))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Time, E> {
                Ok(Time(i64::try_from(v).ok().map(super::model::epoch_seconds)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Time, E> {
                Ok(Time(super::model::rfc3339_seconds(v)))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Time, E> {
                Ok(Time(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Time, E> {
                Ok(Time(None))
            }
            fn visit_unit<E>(self) -> Result<Time, E> {
                Ok(Time(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Time, A::Error> {
                skip_seq(seq).map(|_| Time(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Time, A::Error> {
                skip_map(map).map(|_| Time(None))
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

/// Where an object is expected: its fields as `T` reads them.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Object<T> {
    #[default]
    Missing,
    Found(T),
    /// Present but not an object.
    Mistyped,
}

impl<T: Default> Object<T> {
    /// The object's fields; all missing if it is not an object.
    pub fn fields(self) -> T {
        match self {
            Object::Found(t) => t,
            _ => T::default(),
        }
    }
}

impl<T> Object<T> {
    pub fn is_present(&self) -> bool {
        !matches!(self, Object::Missing)
    }

    /// The object's fields, if it is one.
    pub fn get(&self) -> Option<&T> {
        match self {
            Object::Found(t) => Some(t),
            _ => None,
        }
    }
}

/// Written back as the object, or `null` (read back as `Mistyped`).
impl<T: Serialize> Serialize for Object<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Object::Found(t) => t.serialize(s),
            _ => s.serialize_unit(),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object::Found)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Object<T>, A::Error> {
                skip_seq(seq).map(|_| Object::Mistyped)
            }
            fn visit_str<E>(self, _: &str) -> Result<Object<T>, E> {
                Ok(Object::Mistyped)
            }
            scalars_are!(Object::Mistyped);
        }
        d.deserialize_any(ObjectVisitor(PhantomData))
    }
}

/// Where an array is expected and only its first element is used (as `/0` in a pointer);
/// the others are skipped. `None` if it is empty or not an array.
#[derive(Clone, Debug, PartialEq)]
pub struct First<T>(pub Option<T>);

impl<T> Default for First<T> {
    fn default() -> Self {
        First(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FirstVisitor<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for FirstVisitor<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element::<T>()?;
                skip_seq(seq)?;
                Ok(First(first))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<First<T>, A::Error> {
                skip_map(map).map(|_| First(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<First<T>, E> {
                Ok(First(None))
            }
            scalars_are!(First(None));
        }
        d.deserialize_any(FirstVisitor(PhantomData))
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Sample {
        name: Text,
        count: Int,
        at: Time,
        inner: Object<Inner>,
        items: First<Object<Inner>>,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default)]
    struct Inner {
        id: Text,
    }

    #[test]
    fn each_field_says_what_it_found_without_failing_the_whole() {
        let s: Sample = serde_json::from_str(
            r#"{"name": {"deep": [1, 2]}, "count": "7", "at": 1739539623000, "inner": "x",
                "items": [{"id": "a", "more": [1]}, {"id": "b"}], "unknown": {"big": [1, 2, 3]}}"#,
        )
        .unwrap();
        assert_eq!(s.name, Text::NotString);
        assert_eq!(s.count, Int(None));
        assert_eq!(s.at, Time(Some(1_739_539_623)));
        assert_eq!(s.inner, Object::Mistyped);
        assert_eq!(
            s.items.0.map(Object::fields),
            Some(Inner {
                id: Text::Str("a".into())
            })
        );
        let s: Sample = serde_json::from_str(r#"{"name": null, "count": 7}"#).unwrap();
        assert_eq!((s.name, s.count), (Text::NotString, Int(Some(7))));
        assert!(!s.inner.is_present());
        assert_eq!(
            serde_json::from_str::<Sample>(r#"{}"#).unwrap().name,
            Text::Missing
        );
    }
}
