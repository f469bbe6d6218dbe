# Which hosts of a flake end up with sops-nix's options: the flake's outputs applied
# to stub inputs (nixpkgs.lib.nixosSystem and colmena.lib.makeHive return their
# arguments; sops-nix.nixosModules.sops is a module declaring `options.sops`), then
# each host's modules loaded through their `imports` as the module system would see
# them (functions called with the host's specialArgs).  Not nixpkgs: no merging, no
# option types; only "does a module declaring `sops` reach this host".
{ dir }:
let
  sopsModule = { options.sops = "declared"; };
  lib = {
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    attrNames = builtins.attrNames;
    filterAttrs = pred: set: builtins.listToAttrs (builtins.concatMap
      (n: if pred n set.${n} then [ { name = n; value = set.${n}; } ] else [ ])
      (builtins.attrNames set));
    mkDefault = v: v;
    mkForce = v: v;
    nixosSystem = args: { _stub = "nixos"; inherit args; };
  };
  nixpkgs = { inherit lib; outPath = "/stub/nixpkgs"; };
  sops-nix = { nixosModules = { sops = sopsModule; default = sopsModule; }; outPath = "/stub/sops-nix"; };
  colmena = { lib.makeHive = hive: hive; outPath = "/stub/colmena"; };
  flake = import (dir + "/flake.nix");
  inputs = { self = outputs // { outPath = dir; }; inherit nixpkgs sops-nix colmena; };
  outputs = flake.outputs inputs;

  call = special: fn:
    let
      given = special // { inherit lib; config = { }; pkgs = { }; options = { }; modulesPath = "/stub/modules"; };
      wanted = builtins.mapAttrs (_: _: null) (builtins.functionArgs fn);
    in fn (wanted // given);
  load = special: m:
    let
      readable = !(builtins.isPath m || builtins.isString m) || builtins.pathExists m;
      fn = if builtins.isPath m || builtins.isString m then import m else m;
      value = if builtins.isFunction fn then call special fn else fn;
    in if readable then [ value ] ++ builtins.concatMap (load special) (value.imports or [ ]) else [ ];
  hasSops = special: modules:
    builtins.any (v: builtins.isAttrs v && (v.options or { }) ? sops) (builtins.concatMap (load special) modules);

  systems = builtins.mapAttrs
    (_: s: hasSops (s.args.specialArgs or { }) s.args.modules)
    (outputs.nixosConfigurations or { });
  hive = outputs.colmena or outputs.colmenaHive or { };
  nodes = builtins.removeAttrs hive [ "meta" "defaults" ];
  special = (hive.meta or { }).specialArgs or { };
  colmenaNodes = builtins.mapAttrs
    (_: node: hasSops special ((if hive ? defaults then [ hive.defaults ] else [ ]) ++ [ node ]))
    nodes;
in
{ nixos = systems; colmena = colmenaNodes; }
