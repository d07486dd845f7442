# localhost/cargo-prebuild-test/tool: cargo-prebuild installed the way a user does, from a clean
# export of this repository (the build context). Used as the chef stage with Docker 20.10, whose
# built-in BuildKit frontend has no named build contexts; with buildah the chef stage itself
# does this, see run.sh's render().
FROM localhost/cargo-prebuild-test/rust-base
COPY . /usr/local/src/cargo-prebuild
RUN cargo install --path /usr/local/src/cargo-prebuild --locked
