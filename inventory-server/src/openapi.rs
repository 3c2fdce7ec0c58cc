pub fn document_bytes() -> &'static [u8] {
    b"{}"
}
