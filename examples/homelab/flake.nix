{
  description = "Homelab: observer, media and backup VMs and a laptop, deployed with colmena";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    colmena.url = "github:zhaofengli/colmena";
  };

  outputs = { self, nixpkgs, colmena, ... }: {
    nixosConfigurations = {
      observer = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/observer ];
      };
      immich = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/immich ];
      };
      syncthing = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/syncthing ];
      };
      jellyfin = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/jellyfin ];
      };
      audiobookshelf = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/audiobookshelf ];
      };
      adguarder = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/adguarder ];
      };
      stian-dell-nixos = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/stian-dell-nixos ];
      };
      offsite-vm = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [ ./modules/common.nix ./hosts/offsite-vm ];
      };
    };

    colmenaHive = colmena.lib.makeHive {
      meta = {
        nixpkgs = import nixpkgs { system = "x86_64-linux"; };
      };

      defaults = {
        imports = [ ./modules/common.nix ];
      };

      observer = {
        imports = [ ./hosts/observer ];
        deployment.targetHost = "observer";
      };
      immich = {
        imports = [ ./hosts/immich ];
        deployment.targetHost = "immich";
      };
      syncthing = {
        imports = [ ./hosts/syncthing ];
        deployment.targetHost = "syncthing";
      };
      jellyfin = {
        imports = [ ./hosts/jellyfin ];
        deployment.targetHost = "jellyfin";
      };
      audiobookshelf = {
        imports = [ ./hosts/audiobookshelf ];
        deployment.targetHost = "audiobookshelf";
      };
      adguarder = {
        imports = [ ./hosts/adguarder ];
        deployment.targetHost = "adguarder";
      };
      stian-dell-nixos = {
        imports = [ ./hosts/stian-dell-nixos ];
        deployment.allowLocalDeployment = true;
        deployment.targetHost = null;
      };
      offsite-vm = {
        imports = [ ./hosts/offsite-vm ];
        deployment.targetHost = "offsite-vm";
      };
    };
  };
}
