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

/// Explicit `Send`, `Sync`, `Unpin`, `UnwindSafe` and `RefUnwindSafe` for an enum of boxed
/// generated types (`Any`, the `Base*` enums, `Request`, `Response`), with the compiler's check
/// that each payload type has them.
///
/// The compiler would derive these traits anyway. The explicit impls are for rustdoc, which
/// otherwise works out each auto trait of every type by walking every type it reaches: through
/// these enums that is the whole API, for each of ~4,600 types, and the documentation took more
/// than 36 minutes to build. An explicit impl ends each walk at the enum (`docs/PERFORMANCE.md`,
/// "Documentation build").
///
/// Soundness: such an enum holds nothing but `Box`es of the listed types (`Any` also holds
/// primitives, checked in `codec::any`, and unboxed types, checked by `variant_of_unboxed!`).
/// The `const` checks that every listed type has the five traits given that the enums have
/// them; since every value is finitely nested, by induction every value that an enum can hold
/// has them, and so does the enum.
macro_rules! hub_auto_traits {
    ($e:ident: $($t:ty),* $(,)?) => {
        // SAFETY: every variant holds a `Box` of a type checked to be `Send` below (see above).
        unsafe impl Send for $e {}
        // SAFETY: as for `Send`.
        unsafe impl Sync for $e {}
        impl Unpin for $e {}
        impl ::std::panic::UnwindSafe for $e {}
        impl ::std::panic::RefUnwindSafe for $e {}
        auto_traits_hold!($($t),*);
    };
}

/// Compile-time check that each listed type is `Send`, `Sync`, `Unpin`, `UnwindSafe` and
/// `RefUnwindSafe` (see `hub_auto_traits!`).
macro_rules! auto_traits_hold {
    ($($t:ty),* $(,)?) => {
        const _: fn() = || {
            fn holds<
                T: Send + Sync + Unpin + ::std::panic::UnwindSafe + ::std::panic::RefUnwindSafe,
            >() {
            }
            $(holds::<$t>();)*
        };
    };
}

/// `VariantOf<Enum>` for variants holding `Box<T>`, and `From<T> for Enum` through it.
///
/// One blanket `From` per enum instead of one `From` impl per variant: thousands of `From`
/// impls on one type make rustc's coherence check quadratic.
macro_rules! variant_of {
    ($e:ident: $($t:ident),* $(,)?) => {
        hub_auto_traits!($e: $($t),*);
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
    ($e:ident: $($t:ident),* $(,)?) => {
        auto_traits_hold!($($t),*);
        $(
        impl $crate::codec::VariantOf<$e> for $t {
            #[inline]
            fn wrap(self) -> $e {
                $e::$t(self)
            }
        }
        )*
    };
}

/// `VariantOf<Enum>` for boxed variants whose names differ from their types.
macro_rules! variant_of_named {
    ($e:ident: $($v:ident($t:ident)),* $(,)?) => {
        hub_auto_traits!($e: $($t),*);
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
