//! Macros the generated code expands to keep its per-type code small.

/// `Decode`/`Encode`/`Display` for a generated enumeration.
macro_rules! simple_enum {
    ($name:ident) => {
        impl $crate::codec::Decode for $name {
            fn decode(
                r: &mut $crate::codec::Decoder<'_>,
                el: &$crate::codec::Elem<'_>,
            ) -> Result<Self, $crate::codec::DecodeError> {
                $crate::codec::decode_enum(r, el, Self::from_wsdl)
            }
        }
        impl $crate::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::codec::Encoder, name: &str) {
                w.leaf(name, None, self.as_str())
            }
        }
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `Decode`/`Encode` for a polymorphic enum (which has `decode_as` and `encode_element`).
macro_rules! poly_enum {
    ($name:ident) => {
        impl $crate::codec::Decode for $name {
            fn decode(
                r: &mut $crate::codec::Decoder<'_>,
                el: &$crate::codec::Elem<'_>,
            ) -> Result<Self, $crate::codec::DecodeError> {
                Self::decode_as(r, el, el.vim_type())
            }
        }
        impl $crate::codec::Encode for $name {
            fn encode(&self, w: &mut $crate::codec::Encoder, name: &str) {
                self.encode_element(w, name, None)
            }
        }
    };
}

/// `From<T> for Enum` for variants holding `Box<T>`.
macro_rules! boxed_from {
    ($e:ident: $($t:ident),* $(,)?) => {$(
        impl From<$t> for $e {
            #[inline]
            fn from(v: $t) -> Self {
                $e::$t(Box::new(v))
            }
        }
    )*};
}

/// `From<T> for Enum` for variants holding `T`.
macro_rules! plain_from {
    ($e:ident: $($t:ident),* $(,)?) => {$(
        impl From<$t> for $e {
            #[inline]
            fn from(v: $t) -> Self {
                $e::$t(v)
            }
        }
    )*};
}
