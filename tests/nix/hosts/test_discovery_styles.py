"""Host discovery in the layouts NixOS repositories use in the wild, one small fixture
per style: several hosts and a module shared by two of them (modules/common.nix, which
imports modules/users.nix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.nix.hosts import discover
from tests.keys.layouts import write

SHARED = {
    "modules/common.nix": "{ ... }: { imports = [ ./users.nix ]; }\n",
    "modules/users.nix": "{ ... }: { users.mutableUsers = false; }\n",
}
HOST = "{ ... }: { imports = [ ../../modules/common.nix ]; }\n"
TWO = {"hosts/alpha/configuration.nix": HOST, "hosts/beta/configuration.nix": HOST}
SYSTEM = "nixpkgs.lib.nixosSystem { modules = [ ./hosts/${name}/configuration.nix ]; }"

STYLES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # self.nixosModules.<n> defined as `import ./m.nix` in a let of flake.nix
    "self-modules-import": (
        {
            **SHARED,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: let\n    nixosModules = {\n"
                "      common = import ./modules/common.nix;\n    };\n  in {\n"
                "    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ self.nixosModules.common ];\n    };\n"
                "    nixosConfigurations.beta = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ self.nixosModules.common ];\n    };\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # every module of a folder, as a stranger's flake-parts homelab lists them:
    # `map (n: moduleDir + "/${n}") (builtins.attrNames (builtins.readDir moduleDir))`
    "readdir-module-list": (
        {
            "modules/common.nix": SHARED["modules/common.nix"],
            "modules/extra/default.nix": "{ ... }: { }\n",
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: let\n    moduleDir = ./modules;\n"
                '    shared = map (n: moduleDir + "/${n}")\n'
                "      (builtins.attrNames (builtins.readDir moduleDir));\n  in {\n"
                "    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem {\n"
                '      modules = shared ++ [ { networking.hostName = "alpha"; } ];\n    };\n'
                "    nixosConfigurations.beta = nixpkgs.lib.nixosSystem {\n"
                '      modules = shared ++ [ { networking.hostName = "beta"; } ];\n    };\n'
                "  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # `mapAttrs mkHost hosts` with a module list a host's own set may give (a stranger's
    # homelab: `extraModules ? [ ]` left every host "cannot verify")
    "mkhost-formals": (
        {
            **TWO,
            "modules/gpu.nix": "{ ... }: { }\n",
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: let\n"
                "    mkHost = name: { extraModules ? [ ] }: nixpkgs.lib.nixosSystem {\n"
                "      modules = [ ./hosts/${name}/configuration.nix ] ++ extraModules;\n    };\n"
                "    hosts = { alpha = { }; beta = { extraModules = [ ./modules/gpu.nix ]; }; };\n"
                "  in {\n    nixosConfigurations = builtins.mapAttrs mkHost hosts;\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # lib.filesystem.listFilesRecursive, filtered to .nix files
    "list-files-recursive": (
        {
            "modules/README.md": "not a module\n",
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: let\n    lib = nixpkgs.lib;\n"
                '    shared = builtins.filter (lib.hasSuffix ".nix")\n'
                "      (lib.filesystem.listFilesRecursive ./modules);\n  in {\n"
                "    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem { modules = shared; };\n"
                "    nixosConfigurations.beta = nixpkgs.lib.nixosSystem { modules = shared; };\n"
                "  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # lib.genAttrs over the directories of ./hosts
    "genattrs-readdir": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }:\n    let\n      hosts = builtins.attrNames"
                ' (nixpkgs.lib.filterAttrs (_: t: t == "directory") (builtins.readDir ./hosts));\n'
                "    in {\n      nixosConfigurations = nixpkgs.lib.genAttrs hosts"
                f" (name: {SYSTEM});"
                "\n    };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # builtins.mapAttrs over builtins.readDir
    "mapattrs-readdir": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: {\n    nixosConfigurations = "
                f"builtins.mapAttrs (name: _: {SYSTEM}) (builtins.readDir ./hosts);\n  }};\n}}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # listToAttrs (map mk [ … ])
    "listtoattrs": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }:\n  let\n"
                f"    mk = name: {{ inherit name; value = {SYSTEM}; }};\n  in {{\n"
                '    nixosConfigurations = builtins.listToAttrs (map mk [ "alpha" "beta" ]);\n'
                "  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # listToAttrs (map (name: { inherit name; value = mkHost name; }) <readDir names>),
    # in flake-parts' `flake`, with the module path `./hosts/${name}/…`
    "listtoattrs-readdir": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, nixpkgs, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      flake = let\n"
                f"        mkHost = name: {SYSTEM};\n"
                "        names = builtins.attrNames (builtins.readDir ./hosts);\n"
                "      in {\n"
                "        nixosConfigurations = builtins.listToAttrs\n"
                "          (map (name: { inherit name; value = mkHost name; }) names);\n"
                "      };\n    };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # a flake-parts module: listToAttrs (map (name: nameValuePair name ((mkSystem name)
    # { … })) names), the names the directories holding configuration.nix
    # (notthebee/nix-config's machines), mkSystem naming the nixpkgs input per host
    "listtoattrs-namevaluepair": (
        {
            "machines/alpha/configuration.nix": HOST,
            "machines/beta/configuration.nix": HOST,
            "machines/_common/default.nix": "{ ... }: { }\n",
            "machines/notes/readme.nix": "{ }\n",
            "machines/default.nix": (
                "{ lib, self, ... }:\nlet\n"
                "  entries = builtins.attrNames (builtins.readDir ./.);\n"
                "  configs = builtins.filter\n"
                '    (dir: builtins.pathExists (./. + "/${dir}/configuration.nix")) entries;\n'
                '  unstable = { beta = "-unstable"; };\n'
                "  mkSystem = name:\n"
                '    self.inputs."nixpkgs${lib.attrByPath [ name ] "" unstable}".lib.nixosSystem;\n'
                "in {\n  flake.nixosConfigurations = lib.listToAttrs (builtins.map (name:\n"
                "    lib.nameValuePair name ((mkSystem name) {\n"
                '      modules = [ (./. + "/_common/default.nix")'
                ' (./. + "/${name}/configuration.nix") ];\n'
                "    })) configs);\n}\n"
            ),
            "flake.nix": (
                "{\n  outputs = inputs@{ ... }:\n"
                "    inputs.flake-parts.lib.mkFlake { inherit inputs; } ({ ... }: {\n"
                '      systems = [ "x86_64-linux" ];\n      imports = [ ./machines ];\n'
                "    });\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # a generated set merged with a literal one: genAttrs [ … ] mk // { beta = …; }
    "genattrs-merged": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: {\n"
                '    nixosConfigurations = nixpkgs.lib.genAttrs [ "alpha" ]'
                f" (name: {SYSTEM}) // {{\n"
                "      beta = nixpkgs.lib.nixosSystem"
                " { modules = [ ./hosts/beta/configuration.nix ]; };\n"
                "    };\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # flake-parts with flake.nixosConfigurations and a self.nixosModules import
    "flake-parts": (
        {
            **TWO,
            "hosts/beta/configuration.nix": (
                "{ self, ... }: { imports = [ self.nixosModules.common ]; }\n"
            ),
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, nixpkgs, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      perSystem = { pkgs, ... }: { devShells.default = pkgs.mkShell { }; };\n"
                "      flake = {\n"
                "        nixosModules.common = ./modules/common.nix;\n"
                "        nixosConfigurations.alpha = nixpkgs.lib.nixosSystem {\n"
                "          modules = [ ./hosts/alpha/configuration.nix"
                " inputs.nixos-hardware.nixosModules.framework-13-7040-amd ];\n        };\n"
                "        nixosConfigurations.beta = nixpkgs.lib.nixosSystem {\n"
                "          modules = [ ./hosts/beta/configuration.nix ];\n        };\n"
                "      };\n    };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # flake-parts with the dotted form: flake.nixosConfigurations = genAttrs [ … ] (…)
    "flake-parts-dotted": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, nixpkgs, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      flake.nixosConfigurations = nixpkgs.lib.genAttrs"
                f' [ "alpha" "beta" ] (name: {SYSTEM});\n'
                "    };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # flake-parts modules imported from flake.nix (imports = [ ./hosts ]), the hosts'
    # modules as "${self}/…" strings and a list taken with inherit (import …) name
    "flake-parts-imports-self": (
        {
            **TWO,
            "system/default.nix": (
                "let\n  common = ../modules/common.nix;\nin\n{ laptop = [ common ]; }\n"
            ),
            "hosts/default.nix": (
                "{ self, inputs, ... }:\n{\n  flake.nixosConfigurations =\n    let\n"
                "      inherit (inputs.nixpkgs.lib) nixosSystem;\n"
                '      mod = "${self}/system";\n'
                "      inherit (import mod) laptop;\n    in\n    {\n"
                "      alpha = nixosSystem {\n"
                "        modules = laptop ++ [ ./alpha/configuration.nix ];\n      };\n"
                "      beta = nixosSystem {\n"
                '        modules = [ "${self}/hosts/beta/configuration.nix" ];\n      };\n'
                "    };\n}\n"
            ),
            "flake.nix": (
                "{\n  outputs = inputs:\n    inputs.flake-parts.lib.mkFlake { inherit inputs; } {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      imports = [ ./hosts inputs.treefmt-nix.flakeModule ];\n    };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # flake-parts' module as a function of its arguments, each host built inside
    # withSystem SYSTEM ({ pkgs, ... }: nixosSystem {…}) in the dotted form
    "flake-parts-function-with-system": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, nixpkgs, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; } ({ withSystem, ... }: {\n"
                '      systems = [ "x86_64-linux" ];\n'
                '      flake.nixosConfigurations.alpha = withSystem "x86_64-linux"\n'
                "        ({ pkgs, ... }: nixpkgs.lib.nixosSystem {\n"
                "          modules = [ ./hosts/alpha/configuration.nix ];\n        });\n"
                '      flake.nixosConfigurations.beta = withSystem "x86_64-linux"\n'
                "        ({ pkgs, ... }: nixpkgs.lib.nixosSystem {\n"
                "          modules = [ ./hosts/beta/configuration.nix ];\n        });\n"
                "    });\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # the same with a set of hosts, `ctx:` contexts and { self, inputs, withSystem, … }
    "flake-parts-function-with-system-set": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = inputs@{ flake-parts, ... }:\n"
                "    flake-parts.lib.mkFlake { inherit inputs; }\n"
                "    ({ self, inputs, withSystem, ... }: {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      flake.nixosConfigurations = {\n"
                '        alpha = withSystem "x86_64-linux" (ctx: inputs.nixpkgs.lib.nixosSystem {\n'
                "          specialArgs = { inherit (ctx) system; };\n"
                "          modules = [ ./hosts/alpha/configuration.nix ];\n        });\n"
                '        beta = withSystem "aarch64-linux" (ctx: inputs.nixpkgs.lib.nixosSystem {\n'
                "          modules = [ ./hosts/beta/configuration.nix ];\n        });\n"
                "      };\n    });\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # a function module importing ./hosts, itself a function module whose hosts are
    # built with withSystem, and an inline module in the same imports list
    "flake-parts-function-imports": (
        {
            **TWO,
            "hosts/default.nix": (
                "{ inputs, withSystem, ... }:\n{\n"
                '  flake.nixosConfigurations.alpha = withSystem "x86_64-linux" ({ system, ... }:\n'
                "    inputs.nixpkgs.lib.nixosSystem {\n"
                "      modules = [ ./alpha/configuration.nix ];\n    });\n}\n"
            ),
            "flake.nix": (
                "{\n  outputs = inputs:\n    inputs.flake-parts.lib.mkFlake { inherit inputs; }\n"
                "    ({ withSystem, ... }: {\n"
                '      systems = [ "x86_64-linux" ];\n'
                "      imports = [\n        ./hosts\n        inputs.treefmt-nix.flakeModule\n"
                "        ({ withSystem, ... }: {\n"
                '          flake.nixosConfigurations.beta = withSystem "x86_64-linux" (_:\n'
                "            inputs.nixpkgs.lib.nixosSystem {\n"
                "              modules = [ ./hosts/beta/configuration.nix ];\n"
                "            });\n        })\n      ];\n    });\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # import-tree style loaders: every .nix file of a directory (but _private ones)
    "import-tree": (
        {
            **SHARED,
            "hosts/alpha/a.nix": HOST,
            "hosts/alpha/_draft/skip.nix": "{ ... }: { }\n",
            "hosts/beta/b.nix": HOST,
            "flake.nix": (
                "{\n  outputs = inputs@{ nixpkgs, import-tree, ... }: {\n"
                "    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem"
                " { modules = [ (import-tree ./hosts/alpha) ]; };\n"
                "    nixosConfigurations.beta = nixpkgs.lib.nixosSystem"
                " { modules = [ (inputs.import-tree ./hosts/beta) ]; };\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # haumea: each loaded file returns its host's system (haumea calls it with inputs)
    "haumea-load": (
        {
            **TWO,
            "systems/alpha.nix": (
                "{ inputs }: inputs.nixpkgs.lib.nixosSystem"
                " { modules = [ ../hosts/alpha/configuration.nix ]; }\n"
            ),
            "systems/beta/default.nix": (
                "{ inputs }: inputs.nixpkgs.lib.nixosSystem"
                " { modules = [ ../../hosts/beta/configuration.nix ]; }\n"
            ),
            "systems/_helpers.nix": "{ }: { }\n",
            "flake.nix": (
                "{\n  outputs = inputs@{ nixpkgs, haumea, ... }: {\n"
                "    nixosConfigurations = haumea.lib.load {\n"
                "      src = ./systems;\n      inputs = { inherit inputs; };\n"
                "      transformer = haumea.lib.transformers.liftDefault;\n    };\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # haumea's path loader: mapAttrs over the entries, each entry's files its modules
    "haumea-mapattrs": (
        {
            "machines/alpha.nix": "{ ... }: { imports = [ ../modules/common.nix ]; }\n",
            "machines/beta/configuration.nix": HOST.replace("../../", "../../"),
            "machines/beta/hardware.nix": "{ ... }: { boot.loader.grub.enable = true; }\n",
            "machines/beta/_old/unused.nix": "{ ... }: { }\n",
            "machines/_wip.nix": "{ ... }: { }\n",
            "flake.nix": (
                "{\n  outputs = inputs@{ nixpkgs, ... }: {\n"
                "    nixosConfigurations = nixpkgs.lib.mapAttrs (name: value:\n"
                "      nixpkgs.lib.nixosSystem { modules = [ value ]; })\n"
                "      (inputs.haumea.lib.load {\n        src = ./machines;\n"
                "        loader = inputs.haumea.lib.loaders.path;\n      });\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # haumea's verbatim loader: each entry an attrset of its files, `host.default` the
    # directory's default.nix
    "haumea-entry-default": (
        {
            "hosts/alpha/default.nix": HOST,
            "hosts/beta/default.nix": HOST,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, haumea, ... }: {\n"
                "    nixosConfigurations = builtins.mapAttrs (name: host:\n"
                "      nixpkgs.lib.nixosSystem { modules = [ host.default ]; })\n"
                "      (haumea.lib.load {\n        src = ./hosts;\n"
                "        loader = haumea.lib.loaders.verbatim;\n      });\n  };\n}\n"
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # nix-darwin and home-manager configurations next to a NixOS host
    "darwin-home-manager": (
        {
            **SHARED,
            "hosts/desk/configuration.nix": HOST,
            "darwin/macbook.nix": (
                "{ ... }: { imports = [ ../modules/common.nix ];"
                " home-manager.users.alice = import ../home/alice.nix; }\n"
            ),
            "home/alice.nix": "{ ... }: { imports = [ ./shell.nix ]; }\n",
            "home/shell.nix": "{ ... }: { }\n",
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, nix-darwin, home-manager, ... }: {\n"
                "    darwinConfigurations.macbook = nix-darwin.lib.darwinSystem {\n"
                "      modules = [ ./darwin/macbook.nix home-manager.darwinModules.home-manager ];"
                "\n    };\n"
                '    homeConfigurations."alice@desk" = home-manager.lib.homeManagerConfiguration'
                " {\n      modules = [ ./home/alice.nix ];\n    };\n"
                "    nixosConfigurations.desk = nixpkgs.lib.nixosSystem"
                " { modules = [ ./hosts/desk/configuration.nix ]; };\n  };\n}\n"
            ),
        },
        {"alice@desk": "home-manager", "desk": "flake", "macbook": "darwin"},
    ),
    # deploy-rs nodes deploying the flake's hosts
    "deploy-rs": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, deploy-rs, ... }: {\n"
                "    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem"
                " { modules = [ ./hosts/alpha/configuration.nix ]; };\n"
                "    nixosConfigurations.beta = nixpkgs.lib.nixosSystem"
                " { modules = [ ./hosts/beta/configuration.nix ]; };\n"
                '    deploy.nodes.alpha = { hostname = "alpha.lan"; profiles.system.path ='
                " deploy-rs.lib.x86_64-linux.activate.nixos self.nixosConfigurations.alpha; };\n"
                "  };\n}\n"
            ),
        },
        {"alpha": "flake+deploy-rs", "beta": "flake"},
    ),
    # colmena hive with meta.nodeNixpkgs and defaults
    "colmena-nodenixpkgs": (
        {
            **SHARED,
            "hosts/alpha.nix": "{ ... }: { }\n",
            "hosts/beta.nix": "{ ... }: { }\n",
            "hive.nix": (
                "{\n  meta = { nixpkgs = import ./pinned.nix;"
                " nodeNixpkgs.beta = import ./other.nix; };\n"
                "  defaults = { imports = [ ./modules/common.nix ]; };\n"
                "  alpha = { imports = [ ./hosts/alpha.nix ]; };\n"
                "  beta = { imports = [ ./hosts/beta.nix ]; };\n}\n"
            ),
        },
        {"alpha": "colmena", "beta": "colmena"},
    ),
    # a host builder joining paths (barrucadu/nixfiles): ./hosts + "/${name}" +
    # /configuration.nix, and a nixpkgs module as "${nixpkgs}/nixos/modules/…"
    "joined-paths-builder": (
        {
            **TWO,
            "flake.nix": (
                '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs";\n'
                "  outputs = { self, nixpkgs, ... }: {\n    nixosConfigurations =\n"
                "      let\n        mk = name: extra: nixpkgs.lib.nixosSystem {\n"
                "          modules = [\n            { networking.hostName = name; }\n"
                '            (./hosts + "/${name}" + /configuration.nix)\n'
                "          ] ++ extra;\n        };\n      in {\n"
                '        alpha = mk "alpha" [\n'
                '          "${nixpkgs}/nixos/modules/profiles/qemu-guest.nix" ];\n'
                '        beta = mk "beta" [ ];\n      };\n  };\n}\n'
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # the "dendritic" layout (Juggeli/nixos-config): every file under ./parts is a
    # flake-parts module (import-tree); hosts come from a helper in flake.lib and
    # modules named in flake.nixosModules, some defined piecewise (base.imports)
    "dendritic-import-tree": (
        {
            "flake.nix": (
                "{\n  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; }\n"
                "    (inputs.import-tree ./parts);\n}\n"
            ),
            "parts/lib.nix": (
                "{ inputs, self, ... }:\n{\n  flake.lib.mkHost = { name, modules }:\n"
                "    inputs.nixpkgs.lib.nixosSystem {\n"
                "      modules = [ { networking.hostName = name; } ] ++ modules;\n    };\n}\n"
            ),
            "parts/modules.nix": (
                "{ self, ... }:\n{\n  flake.nixosModules.common = ../modules/common.nix;\n"
                "  flake.nixosModules.base.imports = with self.nixosModules; [ common ];\n}\n"
            ),
            "parts/hosts/alpha.nix": (
                "{ self, inputs, ... }:\n{\n  flake.nixosConfigurations.alpha = "
                'self.lib.mkHost {\n    name = "alpha";\n'
                "    modules = (with self.nixosModules; [ base ])\n"
                "      ++ (with inputs.hw.nixosModules; [ common-pc ]);\n  };\n}\n"
            ),
            "parts/hosts/beta.nix": (
                "{ self, ... }:\n{\n  flake.nixosConfigurations.beta = self.lib.mkHost {\n"
                '    name = "beta";\n    modules = with self.nixosModules; [ base ];\n  };\n}\n'
            ),
            "parts/_draft/ghost.nix": (
                "{ self, ... }:\n{\n  flake.nixosConfigurations.ghost = self.lib.mkHost {\n"
                '    name = "ghost";\n    modules = [ ];\n  };\n}\n'
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # colmena's defaults as a function of the node's name (bubylou/nixos-config)
    "colmena-defaults-of-name": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, colmena, ... }: {\n"
                "    colmenaHive = colmena.lib.makeHive {\n"
                '      meta.nixpkgs = import nixpkgs { system = "x86_64-linux"; };\n'
                "      defaults = { name, ... }: {\n"
                "        imports = [ ./hosts/${name}/configuration.nix ];\n      };\n"
                "      alpha = { ... }: { };\n      beta = { name, ... }: { };\n"
                "    };\n  };\n}\n"
            ),
        },
        {"alpha": "colmena", "beta": "colmena"},
    ),
    # snowfall-lib (jakehamilton/config): systems/<target>/<host>/default.nix, every
    # modules/nixos/**/default.nix in each NixOS system, modules/darwin in darwin ones
    "snowfall-lib": (
        {
            "flake.nix": (
                "{\n  outputs = inputs: inputs.snowfall-lib.mkFlake {\n"
                "    inherit inputs;\n    src = ./.;\n"
                "    systems.modules.nixos = with inputs; [ disko.nixosModules.disko ];\n"
                "  };\n}\n"
            ),
            "systems/x86_64-linux/alpha/default.nix": (
                "{ ... }: { imports = [ ../../../modules/common.nix ]; }\n"
            ),
            "systems/x86_64-install-iso/beta/default.nix": (
                "{ ... }: { imports = [ ../../../modules/common.nix ]; }\n"
            ),
            "systems/aarch64-darwin/mac/default.nix": "{ ... }: { }\n",
            "modules/nixos/base/default.nix": "{ ... }: { }\n",
            "modules/darwin/dock/default.nix": "{ ... }: { }\n",
        },
        {"alpha": "flake", "beta": "flake", "mac": "darwin"},
    ),
    # snowfall-lib's per-host modules: systems.hosts.<h>.modules in the mkFlake call
    "snowfall-lib-host-modules": (
        {
            "flake.nix": (
                "{\n  outputs = inputs: inputs.snowfall-lib.mkFlake {\n"
                "    inherit inputs;\n    src = ./.;\n"
                "    systems.hosts.alpha.modules = [ ./modules/common.nix ];\n"
                "    systems.hosts = { beta = { modules = [ ./modules/common.nix ]; }; };\n"
                "  };\n}\n"
            ),
            "systems/x86_64-linux/alpha/default.nix": "{ ... }: { }\n",
            "systems/x86_64-linux/beta/default.nix": "{ ... }: { }\n",
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # a colmena hive whose nodes are generated: { meta = …; } // genAttrs [ … ] (name: …)
    "colmena-genattrs-nodes": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, colmena, ... }: {\n"
                "    colmenaHive = colmena.lib.makeHive self.colmena;\n"
                "    colmena = {\n"
                '      meta.nixpkgs = import nixpkgs { system = "x86_64-linux"; };\n'
                "      defaults.deployment.buildOnTarget = true;\n"
                '    } // nixpkgs.lib.genAttrs [ "alpha" "beta" ] (name: {\n'
                '      deployment.targetHost = "${name}.lan";\n'
                "      imports = [ ./hosts/${name}/configuration.nix ];\n    });\n  };\n}\n"
            ),
        },
        {"alpha": "colmena", "beta": "colmena"},
    ),
    # a NixOps/morph network (network.nix, `network` in place of colmena's `meta`)
    "nixops-morph-network": (
        {
            "machines/alpha.nix": "{ ... }: { imports = [ ../modules/common.nix ]; }\n",
            "machines/beta.nix": "{ ... }: { imports = [ ../modules/common.nix ]; }\n",
            "network.nix": (
                '{\n  network.description = "lan";\n'
                "  network.pkgs = import <nixpkgs> { };\n"
                "  alpha = { config, ... }: {\n"
                '    deployment.targetHost = "alpha.lan";\n'
                "    imports = [ ./machines/alpha.nix ];\n  };\n"
                "  beta = import ./machines/beta.nix;\n}\n"
            ),
        },
        {"alpha": "colmena", "beta": "colmena"},
    ),
    # a morph network in default.nix (`morph deploy default.nix`), hosts from readDir
    # through genAttrs beside the `network` set (a stranger's: hosts were guessed from
    # hosts/ and modules/common.nix was "imported by no host")
    "morph-default-nix-readdir": (
        {
            **TWO,
            "default.nix": (
                "let\n  pkgs = import <nixpkgs> { };\n  lib = pkgs.lib;\n"
                "  hostNames = builtins.attrNames (lib.filterAttrs (_: type: type == "
                '"directory") (builtins.readDir ./hosts));\nin\n{\n'
                "  network = { inherit pkgs; };\n"
                "} // lib.genAttrs hostNames (name: { ... }: {\n"
                '  imports = [ ./modules/common.nix (./hosts + "/${name}/configuration.nix") ];\n'
                "  networking.hostName = name;\n})\n"
            ),
        },
        {"alpha": "colmena", "beta": "colmena"},
    ),
    # linyinfeng/dotfiles: a helper returning { ${name} = nixosSystem …; }, merged
    "helper-with-computed-name": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { nixpkgs, ... }: let\n"
                '    mkHost = { name, system ? "x86_64-linux" }: {\n'
                "      ${name} = nixpkgs.lib.nixosSystem {\n"
                "        inherit system; modules = [ ./hosts/${name}/configuration.nix ];\n"
                "      };\n    };\n  in {\n"
                '    nixosConfigurations = (mkHost { name = "alpha"; }) // (mkHost {\n'
                '      name = "beta"; system = "aarch64-linux"; });\n  };\n}\n'
            ),
        },
        {"alpha": "flake", "beta": "flake"},
    ),
    # colmena's documented flake form: colmenaHive = makeHive self.outputs.colmena
    "colmena-makehive-outputs": (
        {
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, colmena, ... }: {\n"
                "    colmenaHive = colmena.lib.makeHive self.outputs.colmena;\n"
                "    colmena = {\n"
                '      meta.nixpkgs = import nixpkgs { system = "x86_64-linux"; };\n'
                "      alpha = import ./hosts/alpha/configuration.nix;\n"
                "      beta = import ./hosts/beta/configuration.nix;\n    };\n  };\n}\n"
            ),
        },
        {"alpha": "colmena", "beta": "colmena"},
    ),
    # no flake.nix: default.nix's nixosConfigurations built with eval-config.nix (a stranger's
    # lon-pinned homelab: "hosts-dir" was all secretkit read, and it missed the modules
    # list, sops-nix's included)
    "default-nix-eval-config": (
        {
            "default.nix": (
                "let\n  sources = import ./lon.nix;\n  mk = name: import "
                '"${sources.nixpkgs}/nixos/lib/eval-config.nix" {\n'
                '    modules = [ "${sources.sops-nix}/modules/sops" '
                "./hosts/${name}/configuration.nix ];\n  };\nin\n{\n"
                '  nixosConfigurations = { alpha = mk "alpha"; beta = mk "beta"; };\n}\n'
            ),
            "lon.nix": "{ nixpkgs = /nix/store/x-source; sops-nix = /nix/store/y-source; }\n",
            **TWO,
        },
        {"alpha": "default.nix", "beta": "default.nix"},
    ),
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_style_finds_its_hosts_and_the_shared_module(tmp_path: Path, style: str) -> None:
    files, expected = STYLES[style]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert {n: h.source for n, h in inv.hosts.items()} == expected
    assert inv.unresolved == []
    users = inv.hosts_of_file("modules/users.nix")
    assert len(users) >= 2 and users <= set(expected)


def test_a_joined_path_names_the_host_module_and_a_nixpkgs_one_is_external(
    tmp_path: Path,
) -> None:
    files, _ = STYLES["joined-paths-builder"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("hosts/alpha/configuration.nix") == {"alpha"}
    assert inv.hosts_of_file("hosts/beta/configuration.nix") == {"beta"}
    assert [reason for _path, reason in inv.external] == [
        "line 14: a module of the flake input nixpkgs"
    ]


def test_dendritic_modules_are_followed_through_the_flakes_own_outputs(tmp_path: Path) -> None:
    files, _ = STYLES["dendritic-import-tree"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("parts/modules.nix") == {"alpha", "beta"}  # base, piecewise
    assert [reason for _path, reason in inv.external] == [
        "line 6: inputs.hw.nixosModules.common-pc"
    ]


def test_snowfall_modules_go_to_the_systems_of_their_kind(tmp_path: Path) -> None:
    files, _ = STYLES["snowfall-lib"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("modules/nixos/base/default.nix") == {"alpha", "beta"}
    assert inv.hosts_of_file("modules/darwin/dock/default.nix") == {"mac"}
    assert inv.hosts["alpha"].external == {"disko.nixosModules.disko"}


def test_snowfall_s_root_is_its_own_not_a_package_s_src(tmp_path: Path) -> None:
    """A package's `src = ./pkgs/tool;` in flake.nix is no snowfall root; the call's
    `snowfall.root = ./nix;` (nested or dotted) is."""
    flake = (
        "{\n  outputs = inputs: let\n"
        "    lib = inputs.snowfall-lib.mkLib {\n      inherit inputs;\n      src = ./.;\n"
        "      snowfall = { root = ./nix; };\n    };\n"
        "    tool = inputs.nixpkgs.legacyPackages.x86_64-linux.stdenv.mkDerivation {\n"
        '      name = "tool"; src = ./pkgs/tool; passthru.docs = { root = ./pkgs/tool; };\n'
        "    };\n"
        "  in lib.mkFlake { };\n}\n"
    )
    files = {
        "flake.nix": flake,
        "pkgs/tool/systems/x86_64-linux/wrong/default.nix": "{ ... }: { }\n",
        "nix/systems/x86_64-linux/right/default.nix": "{ ... }: { }\n",
        "nix/modules/nixos/base/default.nix": "{ ... }: { }\n",
    }
    inv = discover(write(tmp_path, files))
    assert sorted(inv.hosts) == ["right"]
    assert inv.hosts_of_file("nix/modules/nixos/base/default.nix") == {"right"}


def test_import_tree_skips_underscore_paths(tmp_path: Path) -> None:
    files, _ = STYLES["import-tree"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("hosts/alpha/a.nix") == {"alpha"}
    assert inv.hosts_of_file("hosts/alpha/_draft/skip.nix") == set()


def test_haumea_entries_and_their_files(tmp_path: Path) -> None:
    files, _ = STYLES["haumea-mapattrs"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("machines/beta/hardware.nix") == {"beta"}
    assert inv.hosts_of_file("machines/alpha.nix") == {"alpha"}
    assert inv.hosts_of_file("machines/beta/_old/unused.nix") == set()
    assert "_wip" not in inv.hosts
    files, _ = STYLES["haumea-load"]
    inv = discover(write(tmp_path / "load", {**SHARED, **files}))
    assert inv.hosts_of_file("hosts/beta/configuration.nix") == {"beta"}
    assert set(inv.hosts) == {"alpha", "beta"}


def test_another_member_of_a_haumea_entry_is_noted_not_taken_for_an_input(
    tmp_path: Path,
) -> None:
    files, _ = STYLES["haumea-entry-default"]
    files = {**files, "flake.nix": files["flake.nix"].replace("host.default", "host.hw")}
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.external == []
    assert [why for _, why in inv.unresolved] == ["line 4: module from host.hw of a haumea entry"]


def test_a_haumea_directory_that_cannot_be_read_is_said(tmp_path: Path) -> None:
    files, _ = STYLES["haumea-load"]
    files = {k: v for k, v in files.items() if not k.startswith("systems/")}
    inv = discover(write(tmp_path, {**SHARED, **files}))
    # the hosts/<h>/ directories fill in, and the loader is said
    assert {n: h.source for n, h in inv.hosts.items()} == {
        "alpha": "hosts-dir",
        "beta": "hosts-dir",
    }
    assert [why for _, why in inv.unresolved] == [
        "line 3: nixosConfigurations loads systems, which cannot be read"
    ]


def test_what_a_flake_parts_module_does_not_let_be_followed_is_said(tmp_path: Path) -> None:
    files = {
        "machines/alpha.nix": "{ ... }: { }\n",
        "parts/alpha.nix": (
            "{ inputs, withSystem, ... }:\n{\n"
            '  flake.nixosConfigurations.alpha = withSystem "x86_64-linux" (_:\n'
            "    inputs.nixpkgs.lib.nixosSystem { modules = [ ../machines/alpha.nix ]; });\n}\n"
        ),
        "flake.nix": (
            "{\n  outputs = inputs@{ flake-parts, ... }:\n"
            "    flake-parts.lib.mkFlake { inherit inputs; } ({ withSystem, mkHost, ... }: {\n"
            '      systems = [ "x86_64-linux" ];\n'
            '      imports = [ ./parts/alpha.nix (mkModule "gamma") ]\n'
            '        ++ map (n: ./parts/${n}.nix) [ "delta" ];\n'
            '      flake.nixosConfigurations.beta = withSystem "x86_64-linux" mkHost;\n'
            "    });\n}\n"
        ),
    }
    inv = discover(write(tmp_path, files))
    assert inv.hosts_of_file("machines/alpha.nix") == {"alpha"}
    # a host built by what cannot be read is kept and said; so are imports not followed
    assert set(inv.hosts) == {"alpha", "beta"}
    assert sorted(why for _, why in inv.unresolved) == [
        "line 5: flake-parts module a call of mkModule is not followed",
        "line 6: flake-parts imports built from a call of map",
        "line 7: host beta is defined by a call of withSystem",
    ]


def test_home_manager_user_inside_a_darwin_host(tmp_path: Path) -> None:
    files, _ = STYLES["darwin-home-manager"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("home/shell.nix") == {"alice@desk", "macbook"}


def test_plain_configuration_nix(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **SHARED,
            "configuration.nix": (
                "{ ... }: {\n  imports = [ ./hardware-configuration.nix ./modules/common.nix ];\n"
                '  networking.hostName = "nixbox";\n}\n'
            ),
            "hardware-configuration.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert {n: h.source for n, h in inv.hosts.items()} == {"nixbox": "configuration.nix"}
    assert inv.hosts_of_file("modules/users.nix") == {"nixbox"}


def test_a_deploy_rs_node_without_a_configuration_is_said(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **SHARED,
            **TWO,
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: {\n"
                "    nixosConfigurations.alpha = nixpkgs.lib.nixosSystem"
                " { modules = [ ./hosts/alpha/configuration.nix ]; };\n"
                '    deploy.nodes.gamma.hostname = "gamma.lan";\n  };\n}\n'
            ),
        },
    )
    inv = discover(tmp_path)
    assert [r for _, r in inv.unresolved] == ["line 4: deploy-rs node gamma has no configuration"]


def test_a_module_in_an_unchecked_out_submodule_is_external(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            **SHARED,
            ".gitmodules": '[submodule "hm"]\n\tpath = vendor/home-manager\n\turl = x\n',
            "hive.nix": (
                "{ box = { imports = [ ./vendor/home-manager/nixos ./modules/common.nix ]; }; }\n"
            ),
        },
    )
    (tmp_path / "vendor" / "home-manager").mkdir(parents=True)
    inv = discover(tmp_path)
    assert inv.unresolved == []
    assert [r for _, r in inv.external] == [
        "line 1: git submodule vendor/home-manager (vendor/home-manager/nixos)"
    ]


def test_a_self_path_and_an_inherited_list_reach_their_modules(tmp_path: Path) -> None:
    """alpha's modules come from ``inherit (import "${self}/system") laptop`` plus a
    path, beta's from a ``"${self}/hosts/…"`` string: each host has its own file and
    the shared one, and nothing is left unresolved."""
    files, _ = STYLES["flake-parts-imports-self"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("hosts/alpha/configuration.nix") == {"alpha"}
    assert inv.hosts_of_file("hosts/beta/configuration.nix") == {"beta"}
    assert inv.hosts_of_file("modules/common.nix") == {"alpha", "beta"}
    assert inv.unresolved == []


def test_a_module_of_an_input_named_through_inputs_or_self_inputs_is_external(
    tmp_path: Path,
) -> None:
    """``"${self.inputs.nix-grpc-store}/nixos/client.nix"`` (Mic92/dotfiles) and
    ``"${inputs.x}/…"``: modules of a flake input, not imports discovery failed."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }@inputs: {\n"
                "    nixosConfigurations.box = nixpkgs.lib.nixosSystem {\n"
                "      specialArgs = { inherit self inputs; };\n"
                "      modules = [ ./box.nix ];\n    };\n  };\n}\n"
            ),
            "box.nix": (
                "{ self, inputs, ... }:\n{\n  imports = [\n"
                '    "${self.inputs.grpc}/nixos/client.nix"\n'
                '    "${inputs.other}/module.nix"\n  ];\n}\n'
            ),
        },
    )
    inventory = discover(tmp_path)
    assert inventory.unresolved == []
    assert sorted(r for _, r in inventory.external) == [
        "line 4: a module of the flake input grpc",
        "line 5: a module of the flake input other",
    ]


def test_gen_attrs_over_a_function_of_an_imported_lib_reaches_its_modules(
    tmp_path: Path,
) -> None:
    """``genAttrs [ "alpha" "beta" ] lib.mkHost`` with ``lib = import ./lib { … }``: each
    host gets mkHost's modules (the shared one too), and nothing is left unresolved."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }@inputs:\n    let\n"
                "      lib = import ./lib { inherit inputs nixpkgs; };\n    in {\n"
                '      nixosConfigurations = nixpkgs.lib.genAttrs [ "alpha" "beta" ] lib.mkHost;\n'
                "    };\n}\n"
            ),
            "lib/default.nix": (
                "{ inputs, nixpkgs }:\n{\n  mkHost = name: nixpkgs.lib.nixosSystem {\n"
                "    modules = [ ../hosts/${name} ../modules/common.nix ];\n  };\n}\n"
            ),
            "hosts/alpha/default.nix": "{ }\n",
            "hosts/beta/default.nix": "{ }\n",
            "modules/common.nix": "{ services.openssh.enable = true; }\n",
        },
    )
    inventory = discover(tmp_path)
    assert inventory.unresolved == []
    assert sorted(inventory.hosts) == ["alpha", "beta"]
    assert inventory.hosts_of_file("modules/common.nix") == {"alpha", "beta"}
    assert inventory.hosts_of_file("hosts/alpha/default.nix") == {"alpha"}


def test_the_flakes_self_plus_a_path_is_a_module_of_the_repository(tmp_path: Path) -> None:
    """``(self + /share/nixos/server)`` and ``inputs.self + /share/x.nix`` in a host's
    imports (THERAAB/nix-homelab): the flake's own directory and file, not notes."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }@inputs: {\n"
                "    nixosConfigurations.nas = nixpkgs.lib.nixosSystem {\n"
                "      specialArgs = { inherit self inputs; };\n"
                "      modules = [ ./hosts/nas ];\n    };\n  };\n}\n"
            ),
            "hosts/nas/default.nix": (
                "{ self, inputs, ... }:\n{\n  imports = [\n    (self + /share/nixos/server)\n"
                "    (inputs.self + /share/extra.nix)\n  ];\n}\n"
            ),
            "share/nixos/server/default.nix": "{ imports = [ ./sops.nix ]; }\n",
            "share/nixos/server/sops.nix": '{ sops.age.keyFile = "/var/lib/sops-nix/key.txt"; }\n',
            "share/extra.nix": "{ }\n",
        },
    )
    inventory = discover(tmp_path)
    assert inventory.unresolved == []
    for rel in ("share/nixos/server/default.nix", "share/nixos/server/sops.nix", "share/extra.nix"):
        assert inventory.hosts_of_file(rel) == {"nas"}, rel


def test_a_note_in_a_shared_definition_file_names_the_host_whose_list_it_is_in(
    tmp_path: Path,
) -> None:
    """flake.nix holds the colmena hive's inline modules and a nixosSystem call: what
    cannot be followed in that call's modules list is about that host only."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { self, nixpkgs, ... }: {\n"
                "    nixosConfigurations.solo = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ self.nixosModules.missing ./solo.nix ];\n    };\n"
                "    colmena = {\n"
                '      meta.nixpkgs = import nixpkgs { system = "x86_64-linux"; };\n'
                "      a = { ... }: { imports = [ ./a.nix ]; };\n"
                "      b = { ... }: { imports = [ ./b.nix ]; };\n    };\n  };\n}\n"
            ),
            "solo.nix": "{ }\n",
            "a.nix": "{ }\n",
            "b.nix": "{ }\n",
        },
    )
    inventory = discover(tmp_path)
    assert sorted(inventory.hosts) == ["a", "b", "solo"]
    (note,) = inventory.notes
    assert "self.nixosModules.missing" in note.reason
    assert inventory.hosts_of_note(note) == {"solo"}


def test_home_manager_modules_of_a_nixos_host_are_told_apart(tmp_path: Path) -> None:
    """home-manager.users.<u> and home-manager.sharedModules bring home-manager modules
    (and what they import) into a NixOS host: their options are home-manager's."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = { nixpkgs, ... }: {\n"
                "    nixosConfigurations.box = nixpkgs.lib.nixosSystem {\n"
                "      modules = [ ./hosts/box/default.nix ];\n    };\n  };\n}\n"
            ),
            "hosts/box/default.nix": (
                "{ ... }:\n{\n  imports = [ ../../modules/both.nix ];\n"
                "  home-manager.users.me = import ../../home/me.nix;\n"
                "  home-manager.sharedModules = [ ../../home/shared.nix ];\n}\n"
            ),
            "home/me.nix": "{ ... }:\n{\n  imports = [ ./git.nix ../modules/both.nix ];\n}\n",
            "home/git.nix": "{ ... }: { }\n",
            "home/shared.nix": "{ ... }: { }\n",
            "modules/both.nix": "{ ... }: { }\n",
        },
    )
    inventory = discover(tmp_path)
    box = inventory.hosts["box"]
    assert {p.as_posix() for p in box.home_modules} == {
        "home/me.nix",
        "home/git.nix",
        "home/shared.nix",
    }
    assert inventory.home_only("home/git.nix")
    assert not inventory.home_only("modules/both.nix")  # also a NixOS module of box
    assert not inventory.home_only("hosts/box/default.nix")


HOST_SET_FLAKE = """{
  outputs = inputs@{ flake-parts, nixpkgs, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } {
      flake =
        let
          lib = nixpkgs.lib;
          hosts = import ./hosts { inherit inputs; };
        in
        {
          nixosConfigurations = lib.mapAttrs (name: host:
            lib.nixosSystem {
              modules = host.modules ++ [
                { networking.hostName = host.hostName; }
              ];
            }) hosts;
        };
    };
}
"""
HOST_SET = """{ inputs }:
{
  nas = { hostName = "nas-01"; modules = [ ../modules/common.nix ../modules/backup.nix ]; };
  laptop = { hostName = "laptop"; modules = [ ../modules/common.nix ]; };
}
"""


def test_a_host_sets_values_give_the_modules_and_the_host_name(tmp_path: Path) -> None:
    """A stranger's flake-parts homelab: `lib.mapAttrs (name: host: …) hosts` with each
    host's modules and hostName in `hosts/default.nix`.  `host.modules` was not followed
    (migrate moved nothing), and `host.hostName` was taken for the host's name."""
    write(
        tmp_path,
        {
            "flake.nix": HOST_SET_FLAKE,
            "hosts/default.nix": HOST_SET,
            "modules/common.nix": "{ ... }: { }\n",
            "modules/backup.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.notes == []
    assert inv.hosts_of_file("modules/common.nix") == {"nas", "laptop"}
    assert inv.hosts_of_file("modules/backup.nix") == {"nas"}
    assert [n for _f, _at, n in inv.hosts["nas"].host_names] == ["nas-01"]
    assert [n for _f, _at, n in inv.hosts["laptop"].host_names] == ["laptop"]
    from secretkit.plan.host_names import hostname_mismatches

    sources = {"flake.nix": HOST_SET_FLAKE.encode()}
    (problem,) = hostname_mismatches(sources, inv, {"nas", "laptop"})
    assert problem.message.startswith('host nas sets networking.hostName = "nas-01"')


def test_an_attrset_named_imports_in_a_programs_settings_is_no_module_list(
    tmp_path: Path,
) -> None:
    """fufexan/dotfiles' helix languages: deno's `suggest.imports = { hosts… }` was read
    as a module list ("imports built from a attrset expression": cannot verify)."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{ outputs = { nixpkgs, ... }: { nixosConfigurations.a = "
                "nixpkgs.lib.nixosSystem { modules = [ ./a.nix ]; }; }; }\n"
            ),
            "a.nix": (
                "{ ... }: {\n  imports = [ ./b.nix ];\n  programs.helix.languages.deno.config"
                '.suggest.imports = { hosts."https://deno.land" = true; };\n}\n'
            ),
            "b.nix": "{ ... }: { }\n",
        },
    )
    inv = discover(tmp_path)
    assert inv.notes == []
    assert inv.hosts_of_file("b.nix") == {"a"}


MK_SYSTEM = """{ nixpkgs, inputs }:
name:
{ system, user, darwin ? false, wsl ? false }:
let
  isWSL = wsl;
  isLinux = !darwin && !isWSL;
  machineConfig = ../machines/${name}.nix;
  userOSConfig = ../users/${user}/${if darwin then "darwin" else "nixos"}.nix;
  systemFunc = if darwin then inputs.darwin.lib.darwinSystem else nixpkgs.lib.nixosSystem;
  inherit (nixpkgs.lib) optionals;
in systemFunc {
  inherit system;
  modules = [ { nixpkgs.config.allowUnfree = true; } ]
    ++ optionals isWSL [ ../modules/wsl.nix ]
    ++ optionals isLinux [ ../modules/linux.nix ]
    ++ optionals (builtins.pathExists ./extra.nix) [ ./extra.nix ]
    ++ [ machineConfig userOSConfig ];
}
"""
MK_SYSTEM_FLAKE = """{
  outputs = { nixpkgs, ... }@inputs:
    let mkSystem = import ./lib/mksystem.nix { inherit nixpkgs inputs; };
    in {
      nixosConfigurations.vm = mkSystem "vm" { system = "aarch64-linux"; user = "me"; };
      nixosConfigurations.wsl = mkSystem "wsl" { system = "x86"; user = "me"; wsl = true; };
      darwinConfigurations.mac = mkSystem "mac" { system = "arm"; user = "me"; darwin = true; };
    };
}
"""


def test_a_helper_deciding_by_its_arguments_gives_each_host_its_modules(
    tmp_path: Path,
) -> None:
    """mitchellh/nixos-config's mkSystem: `systemFunc = if darwin then … else …`,
    `optionals isWSL [ … ]`.  Every host was "defined by a call of systemFunc" with no
    modules, so check could verify nothing of them (and migrate moved nothing)."""
    files = {
        "flake.nix": MK_SYSTEM_FLAKE,
        "lib/mksystem.nix": MK_SYSTEM,
        "lib/extra.nix": "{ ... }: { }\n",
    }
    for name in ("vm", "wsl", "mac"):
        files[f"machines/{name}.nix"] = "{ ... }: { }\n"
    for name in (
        "users/me/nixos.nix",
        "users/me/darwin.nix",
        "modules/wsl.nix",
        "modules/linux.nix",
    ):
        files[name] = "{ ... }: { }\n"
    write(tmp_path, files)
    inv = discover(tmp_path)

    def mods(host: str) -> set[str]:
        return {m.as_posix() for m in inv.hosts[host].modules}

    assert {"machines/vm.nix", "users/me/nixos.nix", "modules/linux.nix"} <= mods("vm")
    assert "modules/wsl.nix" not in mods("vm") and "users/me/darwin.nix" not in mods("vm")
    assert {"machines/wsl.nix", "modules/wsl.nix"} <= mods("wsl")
    assert "modules/linux.nix" not in mods("wsl")
    assert {"machines/mac.nix", "users/me/darwin.nix"} <= mods("mac")
    assert inv.hosts["mac"].darwin and not inv.hosts["vm"].darwin
    # a condition the reading cannot decide is said, never guessed
    (note,) = {n.text for n in inv.notes}
    assert "modules built from a call of optionals" in note
    assert not any(inv.hosts[h].resolved for h in ("vm", "wsl", "mac"))  # (that part)


def test_a_builder_call_without_modules_leaves_its_host_unread(tmp_path: Path) -> None:
    """A stranger's re-run: a syntax error in mksystem.nix left three hosts "has no
    modules", and check then said "ok" of them: nothing of their modules was read."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{ outputs = { nixpkgs, ... }: { nixosConfigurations.a = "
                'nixpkgs.lib.nixosSystem { system = "x86_64-linux"; }; }; }\n'
            ),
        },
    )
    inv = discover(tmp_path)
    assert not inv.hosts["a"].resolved
    assert [n.text for n in inv.notes] == [
        "line 1: nixpkgs.lib.nixosSystem call for a has no modules"
    ]


def test_a_flake_parts_hosts_module_named_through_config_flake_is_followed(
    tmp_path: Path,
) -> None:
    """kclejeune/system (a stranger's run): `config.flake.nixosModules.web` in the
    modules of a host, defined by a flake-parts module.  It was taken for an input's
    module: web had no modules, and check said "no host uses sops-nix" and "safe to
    publish" of a host that could not read its sops file."""
    write(
        tmp_path,
        {
            "flake.nix": (
                "{\n  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; }"
                " ({ config, ... }: {\n    imports = [ ./modules/web.nix ];\n"
                "    flake.nixosConfigurations.web = inputs.nixpkgs.lib.nixosSystem {\n"
                "      modules = [ config.flake.nixosModules.web ];\n    };\n  });\n}\n"
            ),
            "modules/web.nix": (
                "{ ... }: {\n  flake.nixosModules.web = { config, ... }: {\n"
                "    sops.secrets.token = { };\n  };\n}\n"
            ),
        },
    )
    inv = discover(tmp_path)
    assert inv.hosts_of_file("modules/web.nix") == {"web"}
    assert not any("config.flake" in n.text for n in inv.external_notes)


def test_a_folders_modules_are_each_a_module_and_a_folder_gives_its_default(
    tmp_path: Path,
) -> None:
    files, _ = STYLES["readdir-module-list"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("modules/extra/default.nix") == {"alpha", "beta"}
    assert inv.hosts_of_file("modules/common.nix") == {"alpha", "beta"}


def test_a_listed_folder_with_a_file_that_is_no_module_is_not_read(tmp_path: Path) -> None:
    """Without the `.nix` filter Nix would import README.md as a module (and fail): the
    list is not taken for one secretkit can read."""
    files, _ = STYLES["list-files-recursive"]
    flake = files["flake.nix"].replace('builtins.filter (lib.hasSuffix ".nix")\n      (', "(")
    inv = discover(write(tmp_path, {**SHARED, **files, "flake.nix": flake}))
    assert inv.hosts_of_file("modules/users.nix") == set()
    assert any("listFilesRecursive" in str(u) or "a call of" in str(u) for u in inv.unresolved)


def test_a_hosts_own_set_gives_its_extra_modules_and_the_others_take_the_default(
    tmp_path: Path,
) -> None:
    files, _ = STYLES["mkhost-formals"]
    inv = discover(write(tmp_path, {**SHARED, **files}))
    assert inv.hosts_of_file("modules/gpu.nix") == {"beta"}
