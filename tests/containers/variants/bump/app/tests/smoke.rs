// Added after the first build: a new test target must not invalidate the dependency layer.
#[test]
fn greets() {
    assert!(greet::greeting().starts_with("hello"));
}
