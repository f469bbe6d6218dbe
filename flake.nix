{
  description = "secretkit: make a NixOS dotfiles repository safe to publish";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f system nixpkgs.legacyPackages.${system};
          }) systems
        );

      pyproject = builtins.fromTOML (builtins.readFile ./pyproject.toml);
      # PEP 503 names ("ruamel.yaml" -> "ruamel-yaml"); all of ours are lower case.
      normalize = name: builtins.replaceStrings [ "." "_" ] [ "-" "-" ] name;
      requirementName = spec: normalize (builtins.head (builtins.match "([A-Za-z0-9._-]+).*" spec));
      declared = builtins.sort builtins.lessThan (map requirementName pyproject.project.dependencies);

      # Two runtime dependencies are not in nixpkgs as we need them: pyrage is not
      # packaged at all, and nixpkgs' tree-sitter-nix binding is built from an
      # unpinned grammar revision under a "0+unstable…" version that fails our
      # `tree-sitter-nix>=0.1`.  Both are built here from their PyPI sdists
      # (sha256 of the sdist as PyPI publishes it); pyrage's Rust crates come from
      # the Cargo.lock inside its sdist, each pinned by its own checksum.
      extraPythonPackages = pkgs: ps: {
        pyrage = ps.buildPythonPackage rec {
          pname = "pyrage";
          version = "1.4.0";
          pyproject = true;
          src = ps.fetchPypi {
            inherit pname version;
            hash = "sha256-VFvxiOjSF+yIwyvI6L9WAmyMCxsfltJojO3xQnqw6Cc=";
          };
          cargoDeps = pkgs.rustPlatform.importCargoLock {
            lockFile = pkgs.runCommand "pyrage-${version}-Cargo.lock" { } ''
              tar -xzOf ${src} pyrage-${version}/Cargo.lock > "$out"
            '';
          };
          nativeBuildInputs = [
            pkgs.rustPlatform.cargoSetupHook
            pkgs.rustPlatform.maturinBuildHook
          ];
          pythonImportsCheck = [ "pyrage" ];
        };
        tree-sitter-nix = ps.buildPythonPackage {
          pname = "tree-sitter-nix";
          version = "0.1.0";
          pyproject = true;
          src = ps.fetchPypi {
            pname = "tree_sitter_nix";
            version = "0.1.0";
            hash = "sha256-tVH9APu6yS8wD6lB88QbZh8pDBQVWd4PaQ1VCdmsPLA=";
          };
          build-system = [
            ps.setuptools
            ps.wheel
          ];
          pythonImportsCheck = [ "tree_sitter_nix" ];
        };
      };

      # pyproject.toml [project] dependencies -> packages, keyed by PEP 503 name.
      runtimeDependencies =
        pkgs: ps:
        let
          extra = extraPythonPackages pkgs ps;
        in
        {
          bcrypt = ps.bcrypt;
          click = ps.click;
          cryptography = ps.cryptography;
          detect-secrets = ps.detect-secrets;
          pyrage = extra.pyrage;
          python-gnupg = ps.python-gnupg;
          ruamel-yaml = ps.ruamel-yaml;
          tree-sitter = ps.tree-sitter;
          tree-sitter-nix = extra.tree-sitter-nix;
        };

      # [project.optional-dependencies] test, for the development shell.
      testDependencies = ps: [
        ps.pytest
        ps.pytest-cov
        ps.pytest-xdist
        ps.hypothesis
        ps.jsonschema
        ps.pre-commit
        ps.mypy
        ps.ruff
      ];

      secretkitFor =
        pkgs:
        let
          ps = pkgs.python3Packages;
          deps = runtimeDependencies pkgs ps;
        in
        assert
          builtins.attrNames deps == declared
          || throw "flake.nix: runtime dependencies differ from pyproject.toml (${toString declared})";
        ps.buildPythonApplication {
          pname = pyproject.project.name;
          version = pyproject.project.version;
          pyproject = true;
          src = self;
          build-system = [ ps.setuptools ];
          dependencies = builtins.attrValues deps;
          # git runs every repository read; git-filter-repo is `secretkit purge`.
          # libsodium's scrypt makes a fingerprint in ~30 ms, OpenSSL's in ~40
          # (secretkit/scan/scrypt.py; the same bytes).
          makeWrapperArgs = [
            "--suffix"
            "PATH"
            ":"
            "${pkgs.git}/bin:${pkgs.git-filter-repo}/bin"
            "--set-default"
            "SECRETKIT_LIBSODIUM"
            "${pkgs.libsodium}/lib/libsodium${pkgs.stdenv.hostPlatform.extensions.sharedLibrary}"
          ];
          # The test suite needs the oracles of the development shell and writable
          # git repositories; it runs in CI (.ci/run), not in the sandbox.
          doCheck = false;
          pythonImportsCheck = [ "secretkit" ];
          meta = {
            description = pyproject.project.description;
            mainProgram = "secretkit";
          };
        };

      # `nix flake check` for any repository: `secretkit scan` and the points of
      # `secretkit check` a read-only source tree allows (no .git, no keys, no
      # network).  The plaintext-history and sops-mac points need a clone and a
      # key: run `secretkit check` there.  Fingerprints in .secretkit-allow are
      # keyed by the repository's first commit, which a source tree does not have:
      # pass it as rootCommit (`git rev-list --max-parents=0 HEAD`) to apply them.
      mkCheck =
        {
          pkgs,
          src,
          rootCommit ? null,
          sourceCheck ? true,
          secretkit ? self.packages.${pkgs.stdenv.hostPlatform.system}.default,
        }:
        pkgs.runCommand "secretkit-check"
          {
            nativeBuildInputs = [
              secretkit
              pkgs.git
            ];
            SECRETKIT_ROOT_COMMIT = if rootCommit == null then "" else rootCommit;
          }
          (
            ''
              export HOME="$TMPDIR"
              secretkit -C ${src} scan
            ''
            + (if sourceCheck then "secretkit -C ${src} check --source-only\n" else "")
            + ''
              touch "$out"
            ''
          );
    in
    {
      lib = {
        inherit mkCheck;
        pythonDependencies = runtimeDependencies;
      };

      overlays.default = final: _prev: { secretkit = secretkitFor final; };

      packages = forAllSystems (
        _system: pkgs: rec {
          secretkit = secretkitFor pkgs;
          default = secretkit;
        }
      );

      apps = forAllSystems (
        system: _pkgs: {
          default = {
            type = "app";
            program = "${self.packages.${system}.default}/bin/secretkit";
            meta.description = pyproject.project.description;
          };
        }
      );

      devShells = forAllSystems (
        _system: pkgs: {
          default = pkgs.mkShell {
            packages = [
              (pkgs.python3.withPackages (
                ps: builtins.attrValues (runtimeDependencies pkgs ps) ++ testDependencies ps
              ))
              # the test oracles (.ci/run installs the same on Debian)
              pkgs.nix
              pkgs.age
              pkgs.gnupg
              pkgs.git
              pkgs.git-filter-repo
              pkgs.nodejs
              pkgs.openssh
            ];
          };
        }
      );

      checks = forAllSystems (
        _system: pkgs: {
          # secretkit's own source is not a NixOS configuration (its test fixtures
          # name sops files that do not exist, on purpose): its check is the scan.
          secretkit = mkCheck {
            inherit pkgs;
            src = self;
            rootCommit = "04a6bcf3e132c133b96c89d9af8240065a8220cf";
            sourceCheck = false;
          };
        }
      );
    };
}
