fn main() {
    let mut buf = itoa::Buffer::new();
    println!("{} (built from real sources, {} crates)", greeting::hello(), buf.format(2));
}
