//! Arguments: every value a statement binds, typed even when NULL (a
//! PostgreSQL parameter needs a type; `$1 IS NULL` alone gives none).

use std::borrow::Cow;

/// One argument, typed even when NULL.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg<'a> {
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Text(Option<Cow<'a, str>>),
    Bytes(Option<Vec<u8>>),
}

impl Arg<'_> {
    /// The same argument, owning its text.
    pub fn owned(self) -> Arg<'static> {
        match self {
            Arg::I64(v) => Arg::I64(v),
            Arg::F64(v) => Arg::F64(v),
            Arg::Bool(v) => Arg::Bool(v),
            Arg::Text(v) => Arg::Text(v.map(|t| Cow::Owned(t.into_owned()))),
            Arg::Bytes(v) => Arg::Bytes(v),
        }
    }
}

/// What can be bound to a placeholder.
pub trait Bind<'a> {
    fn arg(self) -> Arg<'a>;
    /// NULL of this type.
    fn null() -> Arg<'a>
    where
        Self: Sized;
}

macro_rules! bind_int {
    ($($t:ty),*) => {$(
        impl<'a> Bind<'a> for $t {
            fn arg(self) -> Arg<'a> {
                Arg::I64(Some(self as i64))
            }
            fn null() -> Arg<'a> {
                Arg::I64(None)
            }
        }
    )*};
}
bind_int!(i64, i32, i16, u32, u16, u8);

impl<'a> Bind<'a> for f64 {
    fn arg(self) -> Arg<'a> {
        Arg::F64(Some(self))
    }
    fn null() -> Arg<'a> {
        Arg::F64(None)
    }
}

impl<'a> Bind<'a> for bool {
    fn arg(self) -> Arg<'a> {
        Arg::Bool(Some(self))
    }
    fn null() -> Arg<'a> {
        Arg::Bool(None)
    }
}

impl<'a> Bind<'a> for &'a str {
    fn arg(self) -> Arg<'a> {
        Arg::Text(Some(Cow::Borrowed(self)))
    }
    fn null() -> Arg<'a> {
        Arg::Text(None)
    }
}

impl<'a> Bind<'a> for String {
    fn arg(self) -> Arg<'a> {
        Arg::Text(Some(Cow::Owned(self)))
    }
    fn null() -> Arg<'a> {
        Arg::Text(None)
    }
}

impl<'a> Bind<'a> for &'a String {
    fn arg(self) -> Arg<'a> {
        Arg::Text(Some(Cow::Borrowed(self.as_str())))
    }
    fn null() -> Arg<'a> {
        Arg::Text(None)
    }
}

impl<'a> Bind<'a> for Cow<'a, str> {
    fn arg(self) -> Arg<'a> {
        Arg::Text(Some(self))
    }
    fn null() -> Arg<'a> {
        Arg::Text(None)
    }
}

impl<'a> Bind<'a> for Vec<u8> {
    fn arg(self) -> Arg<'a> {
        Arg::Bytes(Some(self))
    }
    fn null() -> Arg<'a> {
        Arg::Bytes(None)
    }
}

impl<'a> Bind<'a> for &'a [u8] {
    fn arg(self) -> Arg<'a> {
        Arg::Bytes(Some(self.to_vec()))
    }
    fn null() -> Arg<'a> {
        Arg::Bytes(None)
    }
}

impl<'a, T: Bind<'a>> Bind<'a> for Option<T> {
    fn arg(self) -> Arg<'a> {
        match self {
            Some(v) => v.arg(),
            None => T::null(),
        }
    }
    fn null() -> Arg<'a> {
        T::null()
    }
}

impl<'a> Bind<'a> for &'a Option<String> {
    fn arg(self) -> Arg<'a> {
        Arg::Text(self.as_deref().map(Cow::Borrowed))
    }
    fn null() -> Arg<'a> {
        Arg::Text(None)
    }
}

macro_rules! bind_copy_ref {
    ($($t:ty),*) => {$(
        impl<'a> Bind<'a> for &'a $t {
            fn arg(self) -> Arg<'a> {
                (*self).arg()
            }
            fn null() -> Arg<'a> {
                <$t as Bind<'a>>::null()
            }
        }
        impl<'a> Bind<'a> for &'a Option<$t> {
            fn arg(self) -> Arg<'a> {
                (*self).arg()
            }
            fn null() -> Arg<'a> {
                <$t as Bind<'a>>::null()
            }
        }
    )*};
}
bind_copy_ref!(i64, i32, u32, f64, bool);

/// Placeholders for a statement with many parameters, bound in the order
/// they appear: `?` on SQLite, `$N` on PostgreSQL. (SQLite finds a named
/// parameter such as `$N` by walking the list of names, so binding n of
/// them costs n² steps: a 50-row insert spent more time there than in the
/// insert itself.)
pub struct Placeholders {
    numbered: bool,
    next: usize,
}

impl Placeholders {
    pub fn for_backend(backend: super::Backend) -> Placeholders {
        Placeholders {
            numbered: backend == super::Backend::Postgres,
            next: 0,
        }
    }

    /// The next parameter's placeholder.
    pub fn take(&mut self) -> String {
        self.next += 1;
        match self.numbered {
            true => format!("${}", self.next),
            false => "?".to_string(),
        }
    }
}
