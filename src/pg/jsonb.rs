//! Reads a jsonb argument in its binary form, in place, through serde.
//!
//! pgrx's `JsonB` argument prints the jsonb to text and parses it back into a `serde_json::Value`,
//! and it panics (an ERROR) on input serde_json refuses: numbers beyond f64, nesting deeper than
//! 128 levels. A router must answer every payload, so we read the binary form ourselves:
//! - objects are searched by key (jsonb keeps them sorted), so a struct costs one binary search
//!   per field it declares, whatever else the object holds;
//! - strings are borrowed from the detoasted datum, nothing is copied;
//! - whatever a struct does not ask for is never visited, so depth and size of junk cost nothing.
//!
//! The deserializer is forgiving on purpose: a value of the wrong shape where a struct or a
//! sequence is expected reads as empty, so a payload that does not fit is data to answer, not an
//! error. Leaves use [`Text`], which is `None` for anything that is not a string.
//!
//! Layout (src/include/utils/jsonb.h): a container is a `uint32` header (count and
//! object/array/scalar flags) followed by `JEntry`s — one per element, or one per key then one
//! per value for objects — then the data. A `JEntry` holds a type and either the length of its
//! data or, every `JB_OFFSET_STRIDE` entries, its end offset.
use core::fmt;
use core::marker::PhantomData;
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::FromDatum;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

const JENTRY_OFFLENMASK: u32 = pg_sys::JENTRY_OFFLENMASK;
const JENTRY_TYPEMASK: u32 = pg_sys::JENTRY_TYPEMASK;
const JENTRY_HAS_OFF: u32 = pg_sys::JENTRY_HAS_OFF;

/// A borrowed, detoasted jsonb value: the argument type of `route_decision(message jsonb, …)`.
pub struct JsonbArg<'a> {
    root: Container<'a>,
}

impl<'a> JsonbArg<'a> {
    /// The top-level value: the root container, or the scalar a raw-scalar root wraps.
    pub fn value(&self) -> JValue<'a> {
        if self.root.is_scalar() {
            // A raw scalar is stored as a one-element array flagged JB_FSCALAR.
            self.root.element(0).unwrap_or(JValue::Null)
        } else {
            self.root.as_value()
        }
    }

    /// Deserialize the whole value into `T`; shape mismatches read as empty (see module docs).
    pub fn read<T: Deserialize<'a>>(&self) -> Result<T, DeError> {
        T::deserialize(self.value())
    }
}

impl FromDatum for JsonbArg<'_> {
    unsafe fn from_polymorphic_datum(
        datum: pg_sys::Datum,
        is_null: bool,
        _typoid: pg_sys::Oid,
    ) -> Option<Self> {
        if is_null || datum.is_null() {
            return None;
        }
        // SAFETY: a non-null jsonb datum from Postgres. pg_detoast_datum returns a 4-byte-header,
        // aligned copy when needed (palloc'd in the call's memory context, freed with it), which
        // is what the container layout requires.
        unsafe {
            let detoasted = pg_sys::pg_detoast_datum(datum.cast_mut_ptr());
            let jsonb = detoasted as *const pg_sys::Jsonb;
            let root = core::ptr::addr_of!((*jsonb).root);
            Some(JsonbArg {
                root: Container {
                    ptr: root,
                    _life: PhantomData,
                },
            })
        }
    }
}

// SAFETY: unboxed with FromDatum; a NULL argument becomes None through Option<JsonbArg>.
unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for JsonbArg<'fcx> {
    unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe {
            arg.unbox_arg_using_from_datum()
                .unwrap_or_else(|| panic!("argument {index} must not be null"))
        }
    }
}

// SAFETY: the SQL type is jsonb, which is what FromDatum reads.
unsafe impl SqlTranslatable for JsonbArg<'_> {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(JsonbArg<'static>);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("jsonb")));
}

/// A container (object or array) inside a detoasted jsonb datum that lives for `'a`.
#[derive(Clone, Copy)]
pub struct Container<'a> {
    ptr: *const pg_sys::JsonbContainer,
    _life: PhantomData<&'a ()>,
}

/// One jsonb value, borrowed from the datum.
#[derive(Clone, Copy)]
pub enum JValue<'a> {
    Null,
    Bool(bool),
    /// Points at a numeric varlena inside the datum.
    Number(*const u8),
    String(&'a [u8]),
    Array(Container<'a>),
    Object(Container<'a>),
}

impl<'a> Container<'a> {
    fn header(&self) -> u32 {
        // SAFETY: ptr points at a valid container for 'a.
        unsafe { (*self.ptr).header }
    }

    pub fn len(&self) -> usize {
        (self.header() & pg_sys::JB_CMASK) as usize
    }

    fn is_scalar(&self) -> bool {
        self.header() & pg_sys::JB_FSCALAR != 0
    }

    pub fn is_object(&self) -> bool {
        self.header() & pg_sys::JB_FOBJECT != 0
    }

    fn as_value(self) -> JValue<'a> {
        if self.is_object() {
            JValue::Object(self)
        } else {
            JValue::Array(self)
        }
    }

    /// Number of JEntries: one per element, or two per key/value pair.
    fn entries(&self) -> usize {
        if self.is_object() {
            self.len() * 2
        } else {
            self.len()
        }
    }

    fn jentry(&self, index: usize) -> u32 {
        // SAFETY: callers keep index < entries(), which the header guarantees are present.
        unsafe { *(*self.ptr).children.as_ptr().add(index) }
    }

    /// Start of entry `index`'s data, relative to the data area (getJsonbOffset in jsonb_util.c).
    fn offset(&self, index: usize) -> usize {
        let mut offset: u32 = 0;
        for i in (0..index).rev() {
            let je = self.jentry(i);
            offset = offset.wrapping_add(je & JENTRY_OFFLENMASK);
            if je & JENTRY_HAS_OFF != 0 {
                break;
            }
        }
        offset as usize
    }

    /// Length of entry `index`'s data (getJsonbLength in jsonb_util.c).
    fn length(&self, index: usize, offset: usize) -> usize {
        let je = self.jentry(index);
        if je & JENTRY_HAS_OFF != 0 {
            ((je & JENTRY_OFFLENMASK) as usize).saturating_sub(offset)
        } else {
            (je & JENTRY_OFFLENMASK) as usize
        }
    }

    fn data_base(&self) -> *const u8 {
        // SAFETY: the data area starts right after the JEntry array.
        unsafe { (*self.ptr).children.as_ptr().add(self.entries()) as *const u8 }
    }

    /// The bytes of entry `index` (a string's text).
    fn entry_bytes(&self, index: usize) -> &'a [u8] {
        let offset = self.offset(index);
        let len = self.length(index, offset);
        // SAFETY: offset and length come from the container's own JEntries.
        unsafe { core::slice::from_raw_parts(self.data_base().add(offset), len) }
    }

    /// Decode entry `index` (fillJsonbValue in jsonb_util.c).
    fn entry_value(&self, index: usize) -> JValue<'a> {
        let je = self.jentry(index);
        match je & JENTRY_TYPEMASK {
            pg_sys::JENTRY_ISSTRING => JValue::String(self.entry_bytes(index)),
            pg_sys::JENTRY_ISNULL => JValue::Null,
            pg_sys::JENTRY_ISBOOL_TRUE => JValue::Bool(true),
            pg_sys::JENTRY_ISBOOL_FALSE => JValue::Bool(false),
            pg_sys::JENTRY_ISNUMERIC => {
                // Numerics and containers are int-aligned relative to the data area.
                let aligned = int_align(self.offset(index));
                // SAFETY: within the container's data area.
                JValue::Number(unsafe { self.data_base().add(aligned) })
            }
            _ => {
                let aligned = int_align(self.offset(index));
                // SAFETY: within the container's data area; nested containers are aligned.
                let ptr = unsafe { self.data_base().add(aligned) } as *const pg_sys::JsonbContainer;
                Container {
                    ptr,
                    _life: PhantomData,
                }
                .as_value()
            }
        }
    }

    /// Element `i` of an array.
    pub fn element(&self, i: usize) -> Option<JValue<'a>> {
        (!self.is_object() && i < self.len()).then(|| self.entry_value(i))
    }

    /// Key and value of pair `i` of an object.
    fn pair(&self, i: usize) -> (&'a [u8], JValue<'a>) {
        (self.entry_bytes(i), self.entry_value(i + self.len()))
    }

    /// Look a key up in an object. jsonb sorts keys by length, then bytes
    /// (lengthCompareJsonbStringValue), so this is a binary search.
    pub fn get(&self, key: &str) -> Option<JValue<'a>> {
        if !self.is_object() {
            return None;
        }
        let key = key.as_bytes();
        let (mut lo, mut hi) = (0usize, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // Most JEntries hold their length: the lengths are compared first, and the key's
            // offset (a walk back over up to 31 JEntries) is only found when they are equal.
            let je = self.jentry(mid);
            let len = if je & JENTRY_HAS_OFF == 0 {
                (je & JENTRY_OFFLENMASK) as usize
            } else {
                self.entry_bytes(mid).len()
            };
            match len
                .cmp(&key.len())
                .then_with(|| self.entry_bytes(mid).cmp(key))
            {
                core::cmp::Ordering::Equal => return Some(self.entry_value(mid + self.len())),
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }
}

fn int_align(offset: usize) -> usize {
    (offset + 3) & !3
}

/// A string leaf that is `None` for anything that is not a string (or not valid UTF-8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Text<'a>(pub Option<&'a str>);

impl<'a> Text<'a> {
    /// The string, when present and not empty.
    pub fn get(&self) -> Option<&'a str> {
        self.0.filter(|s| !s.is_empty())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("anything; only a string is kept")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Some(v)))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
                Ok(Text(None))
            }
        }
        deserializer.deserialize_any(TextVisitor(PhantomData))
    }
}

/// The only error this deserializer raises is one a caller's `Deserialize` impl asks for
/// (for example a plain `&str` field meeting a number); the payload structs use [`Text`].
#[derive(Debug)]
pub struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

impl JValue<'_> {
    fn number_as_f64(ptr: *const u8) -> f64 {
        // SAFETY: ptr is a numeric varlena inside the jsonb datum; numeric_float8_no_overflow
        // cannot fail on a finite numeric (jsonb holds no NaN or infinity).
        unsafe {
            pgrx::direct_function_call::<f64>(
                pg_sys::numeric_float8_no_overflow,
                &[Some(pg_sys::Datum::from(ptr))],
            )
        }
        .unwrap_or(f64::NAN)
    }
}

impl<'de> Deserializer<'de> for JValue<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            JValue::Null => visitor.visit_unit(),
            JValue::Bool(b) => visitor.visit_bool(b),
            JValue::Number(ptr) => visitor.visit_f64(Self::number_as_f64(ptr)),
            JValue::String(bytes) => match core::str::from_utf8(bytes) {
                Ok(s) => visitor.visit_borrowed_str(s),
                Err(_) => visitor.visit_borrowed_bytes(bytes),
            },
            JValue::Array(c) => visitor.visit_seq(Elements { c, i: 0 }),
            JValue::Object(c) => visitor.visit_map(Pairs {
                c,
                i: 0,
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            JValue::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let object = match self {
            JValue::Object(c) => Some(c),
            _ => None,
        };
        visitor.visit_map(Fields {
            object,
            fields,
            i: 0,
            value: None,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            JValue::Object(c) => visitor.visit_map(Pairs {
                c,
                i: 0,
                value: None,
            }),
            _ => visitor.visit_map(Fields {
                object: None,
                fields: &[],
                i: 0,
                value: None,
            }),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            JValue::Array(c) => visitor.visit_seq(Elements { c, i: 0 }),
            _ => visitor.visit_seq(Elements {
                c: Container {
                    ptr: core::ptr::null(),
                    _life: PhantomData,
                },
                i: usize::MAX,
            }),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Nothing to skip in a binary container: unknown fields are never visited.
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct enum identifier
    }
}

/// Array elements, in order. `i == usize::MAX` marks the empty sequence a non-array reads as.
struct Elements<'a> {
    c: Container<'a>,
    i: usize,
}

impl<'de> SeqAccess<'de> for Elements<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if self.i == usize::MAX {
            return Ok(None);
        }
        match self.c.element(self.i) {
            Some(v) => {
                self.i += 1;
                seed.deserialize(v).map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        if self.i == usize::MAX {
            Some(0)
        } else {
            Some(self.c.len().saturating_sub(self.i))
        }
    }
}

/// All pairs of an object, in jsonb's key order (for maps).
struct Pairs<'a> {
    c: Container<'a>,
    i: usize,
    value: Option<JValue<'a>>,
}

impl<'de> MapAccess<'de> for Pairs<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if self.i >= self.c.len() {
            return Ok(None);
        }
        let (key, value) = self.c.pair(self.i);
        self.i += 1;
        self.value = Some(value);
        seed.deserialize(JValue::String(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        seed.deserialize(self.value.take().unwrap_or(JValue::Null))
    }
}

/// The declared fields of a struct that the object has, found by key lookup.
struct Fields<'a> {
    object: Option<Container<'a>>,
    fields: &'static [&'static str],
    i: usize,
    value: Option<JValue<'a>>,
}

impl<'de> MapAccess<'de> for Fields<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(object) = self.object else {
            return Ok(None);
        };
        while let Some(field) = self.fields.get(self.i) {
            self.i += 1;
            if let Some(value) = object.get(field) {
                self.value = Some(value);
                let key = de::value::BorrowedStrDeserializer::<'de, DeError>::new(field);
                return seed.deserialize(key).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        seed.deserialize(self.value.take().unwrap_or(JValue::Null))
    }
}
