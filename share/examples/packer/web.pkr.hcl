# An amazon-ebs image whose build metadata (version, git sha, CI build number and URL, build time) is
# recorded twice: as tags on the image and its snapshots, and in the manifest post-processor's
# custom_data, where ami-from-manifest(1) finds it. The make fragments pass the variables in
# (mk/packer.mk: image-build); locally they default to "dev" and empty.

packer {
  required_plugins {
    amazon = {
      version = ">= 1.2.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}

variable "project" {
  type    = string
  default = "web"
}

variable "version" {
  type    = string
  default = "dev"
}

variable "git_sha" {
  type    = string
  default = ""
}

variable "build_number" {
  type    = string
  default = ""
}

variable "build_url" {
  type    = string
  default = ""
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

locals {
  build_time = timestamp()
  # Image names must be unique per account and region: the version and the time make them so.
  image_name = "${var.project}-${var.version}-${formatdate("YYYYMMDDhhmmss", local.build_time)}"
  metadata = {
    Project     = var.project
    Version     = var.version
    GitSha      = var.git_sha
    BuildNumber = var.build_number
    BuildUrl    = var.build_url
    BuildTime   = local.build_time
  }
}

source "amazon-ebs" "web" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = local.image_name
  ssh_username  = "ec2-user"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-x86_64"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  # The test instance amicycle launches (ec2-launch) requires IMDSv2; so does the image.
  imds_support = "v2.0"
  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tags          = local.metadata
  snapshot_tags = local.metadata
}

build {
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    scripts = ["scripts/install.sh"]
  }

  post-processor "manifest" {
    output     = "manifest.json"
    strip_path = true
    custom_data = {
      version      = var.version
      git_sha      = var.git_sha
      build_number = var.build_number
      build_url    = var.build_url
      build_time   = local.build_time
    }
  }
}
