//! The boundary itself: status codes, the per-thread last error, the landing pad that keeps
//! panics on the Rust side, and the checked conversion of C strings in and out.

use inventory::{Error, ErrorCode, Uuid};
use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What every fallible function returns. `INV_OK` is zero; every other value is a failure whose
/// details are available from `inv_last_error_message()`, `inv_last_error_field()` and
/// `inv_last_error_index()` on the same thread.
///
/// The engine's error codes map one to one (`INV_ERR_NOT_FOUND` is the engine's NOT_FOUND, and
/// so on); `INV_ERR_INVALID_ARGUMENT` and `INV_ERR_PANIC` are the C layer's own.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvStatus {
    INV_OK = 0,
    /// No such product, level, location or reservation.
    INV_ERR_NOT_FOUND = 1,
    /// An input broke a rule of the engine (empty name, bad price, quantity out of range...);
    /// `inv_last_error_field()` names the input.
    INV_ERR_VALIDATION_ERROR = 2,
    /// Not enough available stock for a remove, reserve or transfer.
    INV_ERR_INSUFFICIENT_STOCK = 3,
    /// An unreserve or commit asked for more than is reserved.
    INV_ERR_INSUFFICIENT_RESERVED = 4,
    /// Another live product already has this SKU.
    INV_ERR_DUPLICATE_SKU = 5,
    /// The request contradicts current state: a stale expected version ("version"), a stale
    /// expected available/quantity, an idempotency key reused for a different request
    /// ("idempotency_key"), a duplicate location. `inv_last_error_field()` tells which.
    INV_ERR_CONFLICT = 6,
    /// The database failed, or the file is not an inventory database this build can use.
    INV_ERR_STORAGE_ERROR = 7,
    /// The C call itself was malformed: a NULL pointer where one is required, a string that is
    /// not UTF-8 or is longer than `INV_MAX_STRING_BYTES`, a malformed UUID, an unknown enum
    /// value, or an operation the handle does not support.
    INV_ERR_INVALID_ARGUMENT = 8,
    /// A bug inside the library was caught before it could cross into C (which would have
    /// aborted the process); please report the message.
    INV_ERR_PANIC = 9,
    /// Another process held the database's write lock past the busy timeout: retry later.
    INV_ERR_BUSY = 10,
    /// No valid API key where one is required, or the key is revoked.
    INV_ERR_UNAUTHORIZED = 11,
    /// The key may not do this: its scope, or the locations it is limited to.
    INV_ERR_FORBIDDEN = 12,
}

impl InvStatus {
    pub(crate) fn of(code: ErrorCode) -> Self {
        match code {
            ErrorCode::NotFound => InvStatus::INV_ERR_NOT_FOUND,
            ErrorCode::ValidationError => InvStatus::INV_ERR_VALIDATION_ERROR,
            ErrorCode::InsufficientStock => InvStatus::INV_ERR_INSUFFICIENT_STOCK,
            ErrorCode::InsufficientReserved => InvStatus::INV_ERR_INSUFFICIENT_RESERVED,
            ErrorCode::DuplicateSku => InvStatus::INV_ERR_DUPLICATE_SKU,
            ErrorCode::Conflict => InvStatus::INV_ERR_CONFLICT,
            ErrorCode::StorageError => InvStatus::INV_ERR_STORAGE_ERROR,
            ErrorCode::Busy => InvStatus::INV_ERR_BUSY,
            ErrorCode::Unauthorized => InvStatus::INV_ERR_UNAUTHORIZED,
            ErrorCode::Forbidden => InvStatus::INV_ERR_FORBIDDEN,
        }
    }

    pub(crate) fn name(code: i32) -> &'static std::ffi::CStr {
        const NAMES: [&std::ffi::CStr; 13] = [
            c"OK",
            c"NOT_FOUND",
            c"VALIDATION_ERROR",
            c"INSUFFICIENT_STOCK",
            c"INSUFFICIENT_RESERVED",
            c"DUPLICATE_SKU",
            c"CONFLICT",
            c"STORAGE_ERROR",
            c"INVALID_ARGUMENT",
            c"PANIC",
            c"BUSY",
            c"UNAUTHORIZED",
            c"FORBIDDEN",
        ];
        usize::try_from(code)
            .ok()
            .and_then(|i| NAMES.get(i).copied())
            .unwrap_or(c"UNKNOWN")
    }
}

/// Longest string, in bytes without the terminating NUL, that any function accepts. Longer
/// input is refused with `INV_ERR_INVALID_ARGUMENT` before it is read further; the engine's own
/// (shorter) per-field limits then give `INV_ERR_VALIDATION_ERROR`.
pub const INV_MAX_STRING_BYTES: usize = 65536;

/// Size of the fixed buffers that hold a UUID as text: 36 characters and a NUL.
pub const INV_UUID_LEN: usize = 37;

/// A failure on its way out to C.
#[derive(Debug)]
pub(crate) struct Failure {
    status: InvStatus,
    message: String,
    field: Option<String>,
    index: Option<usize>,
}

impl Failure {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure {
            status: InvStatus::INV_ERR_INVALID_ARGUMENT,
            message: message.into(),
            field: None,
            index: None,
        }
    }

    /// Marks the failure as belonging to operation `index` of a batch, as the engine does.
    pub(crate) fn at_index(mut self, index: usize) -> Self {
        self.index = Some(index);
        self.message = format!("operation {index}: {}", self.message);
        self
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            status: InvStatus::of(e.code),
            message: e.to_string(),
            field: e.field,
            index: e.index,
        }
    }
}

pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

struct LastError {
    message: CString,
    field: Option<CString>,
    index: Option<usize>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        field: None,
        index: None,
    });
}

fn remember(f: Failure) -> InvStatus {
    let status = f.status;
    LAST_ERROR.with(|last| {
        *last.borrow_mut() = LastError {
            message: to_cstring(&f.message),
            field: f.field.as_deref().map(to_cstring),
            index: f.index,
        }
    });
    status
}

pub(crate) fn last_message() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().message.as_ptr())
}

pub(crate) fn last_field() -> *const c_char {
    LAST_ERROR.with(|last| {
        last.borrow()
            .field
            .as_ref()
            .map_or(std::ptr::null(), |f| f.as_ptr())
    })
}

pub(crate) fn last_index() -> i64 {
    LAST_ERROR.with(|last| {
        last.borrow()
            .index
            .and_then(|i| i64::try_from(i).ok())
            .unwrap_or(-1)
    })
}

/// The landing pad every exported function runs its body in: an engine error or a refused
/// argument becomes a status plus the thread's last error, and a panic becomes `INV_ERR_PANIC`
/// instead of unwinding into C (which would abort the process).
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> InvStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => InvStatus::INV_OK,
        Ok(Err(failure)) => remember(failure),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            remember(Failure {
                status: InvStatus::INV_ERR_PANIC,
                message: format!("internal error (panic): {what}"),
                field: None,
                index: None,
            })
        }
    }
}

/// Reads an optional NUL-terminated UTF-8 string. The scan stops at `INV_MAX_STRING_BYTES`, so
/// a missing terminator is refused rather than read without bound.
///
/// # Safety
/// `p` is NULL or points to readable memory up to its NUL or `INV_MAX_STRING_BYTES + 1` bytes.
pub(crate) unsafe fn opt_str(p: *const c_char, what: &str) -> Result<Option<String>> {
    if p.is_null() {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: the caller guarantees readable bytes up to the NUL or the bound.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
        if len > INV_MAX_STRING_BYTES {
            return Err(Failure::invalid(format!(
                "{what} is longer than {INV_MAX_STRING_BYTES} bytes"
            )));
        }
    }
    // SAFETY: the `len` bytes before the NUL were just read.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    std::str::from_utf8(bytes)
        .map(|s| Some(s.to_owned()))
        .map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// A required string: as `opt_str`, but NULL is refused.
///
/// # Safety
/// As for `opt_str`.
pub(crate) unsafe fn req_str(p: *const c_char, what: &str) -> Result<String> {
    unsafe { opt_str(p, what) }?.ok_or_else(|| Failure::invalid(format!("{what} must not be NULL")))
}

/// A required UUID in its text form.
///
/// # Safety
/// As for `opt_str`.
pub(crate) unsafe fn req_uuid(p: *const c_char, what: &str) -> Result<Uuid> {
    let text = unsafe { req_str(p, what) }?;
    Uuid::parse_str(&text).map_err(|_| Failure::invalid(format!("{what} {text:?} is not a UUID")))
}

/// A required pointer.
pub(crate) fn non_null<T>(p: *const T, what: &str) -> Result<*const T> {
    if p.is_null() {
        Err(Failure::invalid(format!("{what} must not be NULL")))
    } else {
        Ok(p)
    }
}

/// An out-parameter: refused when NULL, otherwise overwritten with `empty` at once (without
/// reading or freeing what it held, which may be uninitialised), so that a failed call leaves
/// the caller with something safe to free.
///
/// # Safety
/// `p` is NULL or valid for writes of a `T`.
pub(crate) unsafe fn out<'a, T>(p: *mut T, what: &str, empty: T) -> Result<&'a mut T> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: non-null and valid for writes, as the caller guarantees.
    unsafe {
        p.write(empty);
        Ok(&mut *p)
    }
}

/// A Rust string as a NUL-terminated one. Engine strings never hold NUL (input validation
/// refuses it), but should one appear it is replaced rather than truncating the text.
pub(crate) fn to_cstring(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| {
        CString::new(s.replace('\0', "\u{FFFD}")).expect("NULs were just replaced")
    })
}

/// A string handed to C, to be released by `free_string`.
pub(crate) fn give_string(s: &str) -> *mut c_char {
    to_cstring(s).into_raw()
}

pub(crate) fn give_opt_string(s: Option<&str>) -> *mut c_char {
    s.map_or(std::ptr::null_mut(), give_string)
}

/// Releases a string made by `give_string` and clears the pointer, so a second release is a no-op.
pub(crate) fn free_string(p: &mut *mut c_char) {
    if !p.is_null() {
        // SAFETY: every non-NULL string pointer in an output struct came from `give_string`.
        drop(unsafe { CString::from_raw(*p) });
        *p = std::ptr::null_mut();
    }
}

/// Releases an array of strings made by `give_vec` of `give_string`s, and clears the pair.
pub(crate) fn free_strings(items: &mut *mut *mut c_char, len: &mut usize) {
    if !items.is_null() {
        // SAFETY: a non-NULL (items, len) pair in an output struct came from `give_vec`.
        unsafe { std::slice::from_raw_parts_mut(*items, *len) }
            .iter_mut()
            .for_each(free_string);
    }
    free_vec(items, len);
}

/// A UUID as the fixed, NUL-terminated buffer the output structs carry.
pub(crate) fn uuid_buf(id: Uuid) -> [c_char; INV_UUID_LEN] {
    let mut buf = [0 as c_char; INV_UUID_LEN];
    for (dst, src) in buf.iter_mut().zip(id.hyphenated().to_string().bytes()) {
        *dst = src as c_char;
    }
    buf
}

/// A vector handed to C as (pointer, length); empty is (NULL, 0).
pub(crate) fn give_vec<T>(v: Vec<T>) -> (*mut T, usize) {
    if v.is_empty() {
        return (std::ptr::null_mut(), 0);
    }
    let len = v.len();
    (Box::into_raw(v.into_boxed_slice()).cast::<T>(), len)
}

/// Releases (and drops every element of) a vector made by `give_vec`, and clears the pair.
pub(crate) fn free_vec<T>(items: &mut *mut T, len: &mut usize) {
    if !items.is_null() {
        // SAFETY: a non-NULL (items, len) pair in an output struct came from `give_vec`.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(*items, *len)) });
    }
    *items = std::ptr::null_mut();
    *len = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = guard(|| panic!("boom"));
        assert_eq!(status, InvStatus::INV_ERR_PANIC);
        let message = unsafe { std::ffi::CStr::from_ptr(last_message()) };
        assert_eq!(message.to_str().unwrap(), "internal error (panic): boom");
        assert_eq!(last_index(), -1);
        assert!(last_field().is_null());
    }

    #[test]
    fn every_engine_code_has_its_own_status_and_name() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let status = InvStatus::of(code);
            assert!(seen.insert(status as i32));
            assert_eq!(
                InvStatus::name(status as i32).to_str().unwrap(),
                code.as_str()
            );
        }
        assert_eq!(InvStatus::name(-1).to_str().unwrap(), "UNKNOWN");
        assert_eq!(InvStatus::name(13).to_str().unwrap(), "UNKNOWN");
    }

    #[test]
    fn strings_are_checked_before_they_are_trusted() {
        let bad = [0xffu8 as c_char, 0];
        let err = unsafe { opt_str(bad.as_ptr(), "name") }.unwrap_err();
        assert_eq!(err.status, InvStatus::INV_ERR_INVALID_ARGUMENT);
        let long = vec![b'a' as c_char; INV_MAX_STRING_BYTES + 1];
        // No terminator at all: the scan must stop at the bound, not run off the end.
        assert!(unsafe { opt_str(long.as_ptr(), "name") }.is_err());
        let mut exact = vec![b'a' as c_char; INV_MAX_STRING_BYTES];
        exact.push(0);
        assert_eq!(
            unsafe { opt_str(exact.as_ptr(), "name") }
                .unwrap()
                .unwrap()
                .len(),
            INV_MAX_STRING_BYTES
        );
    }
}
