# The tool image: rust:1-bookworm with cargo-prebuild installed. Build it once per
# cargo-prebuild release, push it to your registry, and start the chef stage from it, so a
# cold CI runner pulls the tool instead of compiling it:
#   FROM registry.example.com/cargo-prebuild:latest AS chef
#   WORKDIR /app
# run.sh builds this file (from the local base image and the repository's source) and the
# registry scenarios start their chef stage from the result.
FROM rust:1-bookworm
RUN cargo install cargo-prebuild --locked
