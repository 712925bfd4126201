# lib-share.sh: the three accounts the sharing tests (t3950, t3951) share images among. Source it
# after lib-ec2.sh. It sets A (the environment's keys' account, which owns the images), B (an account
# of its own), C (a member of organization ORG and of its OU), and share_accounts: the seed's
# "Accounts" member that gives B and C their keys; as_b and as_c run a command as B or C.

A=111111111111 B=222222222222 C=333333333333
ORG=arn:aws:organizations::999999999999:organization/o-amicycle01
OU=arn:aws:organizations::999999999999:ou/o-amicycle01/ou-ab12-amicycle
share_accounts=$(cat <<EOS
"Accounts": {
  "$B": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTB001", "SecretAccessKey": "amicycle-secret-b"}]},
  "$C": {"Credentials": [{"AccessKeyId": "AKIAAMICYCLEACCTC001", "SecretAccessKey": "amicycle-secret-c"}],
         "OrganizationArn": "$ORG", "OrganizationalUnitArns": ["$OU"]}}
EOS
)

as_b () {
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTB001 AWS_SECRET_ACCESS_KEY=amicycle-secret-b "$@"
}
as_c () {
	AWS_ACCESS_KEY_ID=AKIAAMICYCLEACCTC001 AWS_SECRET_ACCESS_KEY=amicycle-secret-c "$@"
}
