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
        impl $crate::codec::EncodeTyped for $name {
            fn encode_as(&self, w: &mut $crate::codec::Encoder, name: &str, xsi_type: &str) {
                w.leaf(name, Some(xsi_type), self.as_str())
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
        impl $crate::codec::EncodeTyped for $name {
            fn encode_as(&self, w: &mut $crate::codec::Encoder, name: &str, _xsi_type: &str) {
                self.encode_element(w, name, None)
            }
        }
    };
}

/// `VariantOf<Enum>` for variants holding `Box<T>`, and `From<T> for Enum` through it.
///
/// One blanket `From` per enum instead of one `From` impl per variant: thousands of `From`
/// impls on one type make rustc's coherence check quadratic.
macro_rules! variant_of {
    ($e:ident: $($t:ident),* $(,)?) => {
        impl<T: $crate::codec::VariantOf<$e>> From<T> for $e {
            #[inline]
            fn from(v: T) -> Self {
                v.wrap()
            }
        }
        $(
        impl $crate::codec::VariantOf<$e> for $t {
            #[inline]
            fn wrap(self) -> $e {
                $e::$t(Box::new(self))
            }
        }
        )*
    };
}

/// `VariantOf<Enum>` for variants holding `T` itself.
macro_rules! variant_of_unboxed {
    ($e:ident: $($t:ident),* $(,)?) => {$(
        impl $crate::codec::VariantOf<$e> for $t {
            #[inline]
            fn wrap(self) -> $e {
                $e::$t(self)
            }
        }
    )*};
}

/// `VariantOf<Enum>` for boxed variants whose names differ from their types.
macro_rules! variant_of_named {
    ($e:ident: $($v:ident($t:ident)),* $(,)?) => {
        impl<T: $crate::codec::VariantOf<$e>> From<T> for $e {
            #[inline]
            fn from(v: T) -> Self {
                v.wrap()
            }
        }
        $(
        impl $crate::codec::VariantOf<$e> for $t {
            #[inline]
            fn wrap(self) -> $e {
                $e::$v(Box::new(self))
            }
        }
        )*
    };
}
