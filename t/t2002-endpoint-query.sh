#!/bin/bash
# t/ec2-endpoint.py at the wire: EC2's XML and error XML byte for byte, the Query errors
# (InvalidAction, UnknownParameter, MissingParameter, unsigned requests), DeregisterImage with
# DeleteAssociatedSnapshots and its older-endpoint fallback, the refusals (deregistration protection,
# snapshots in use, the Deny list), deprecation, pagination across deletions, idempotency tokens,
# console output that appears late, and keep-alive. Requests are signed by curl (--aws-sigv4).

. "$(dirname "$0")"/test-lib.sh
. "$TEST_DIR"/lib-ec2.sh

cat >seed.json <<'EOF'
{"Regions": {"us-east-1": {
  "Images": [
    {"ImageId": "ami-00000000000000001", "Name": "web-01", "Description": "web <1> & co",
     "CreationDate": "2024-05-01T12:00:00.000Z", "Architecture": "x86_64", "Public": false,
     "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs", "EnaSupport": true,
     "DeregistrationProtection": "disabled", "SourceImageId": "ami-0aaaaaaaaaaaaaaa1", "SourceImageRegion": "eu-west-1",
     "Tags": [{"Key": "Project", "Value": "web"}],
     "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-00000000000000001",
       "VolumeSize": 8, "DeleteOnTermination": true, "Encrypted": false}}, {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"}]},
    {"ImageId": "ami-00000000000000002", "Name": "web-02", "CreationDate": "2024-05-02T12:00:00.000Z",
     "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-00000000000000002"}},
                             {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": "snap-00000000000000099"}}]},
    {"ImageId": "ami-00000000000000003", "Name": "web-03", "CreationDate": "2024-05-03T12:00:00.000Z",
     "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": "snap-00000000000000003"}},
                             {"DeviceName": "/dev/xvdb", "Ebs": {"SnapshotId": "snap-00000000000000099"}}]},
    {"ImageId": "ami-00000000000000004", "Name": "web-04", "CreationDate": "2024-05-04T12:00:00.000Z",
     "DeregistrationProtection": "enabled-without-cooldown"},
    {"ImageId": "ami-00000000000000005", "Name": "web-05", "CreationDate": "2024-05-05T12:00:00.000Z"},
    {"ImageId": "ami-00000000000000006", "Name": "web-06", "CreationDate": "2024-05-06T12:00:00.000Z"},
    {"ImageId": "ami-00000000000000007", "Name": "web-07", "CreationDate": "2024-05-07T12:00:00.000Z"},
    {"ImageId": "ami-00000000000000008", "Name": "web-08", "CreationDate": "2024-05-08T12:00:00.000Z"},
    {"ImageId": "ami-00000000000000009", "Name": "web-09", "CreationDate": "2024-05-09T12:00:00.000Z"},
    {"ImageId": "ami-00000000000000010", "Name": "web-10", "CreationDate": "2024-05-10T12:00:00.000Z"}],
  "Snapshots": [{"SnapshotId": "snap-00000000000000001"}, {"SnapshotId": "snap-00000000000000002"},
                {"SnapshotId": "snap-00000000000000003"}, {"SnapshotId": "snap-00000000000000099"}],
  "Instances": [{"InstanceId": "i-00000000000000001", "ImageId": "ami-00000000000000005",
                 "State": {"Code": 48, "Name": "terminated"}},
                {"InstanceId": "i-00000000000000002", "ImageId": "ami-00000000000000005"}],
  "LaunchTemplates": [{"LaunchTemplateId": "lt-0123456789abcdef0", "LaunchTemplateName": "web",
    "Versions": [{"LaunchTemplateData": {"ImageId": "ami-00000000000000004"}}]}]}},
 "Deny": [{"Action": "DeregisterImage", "ResourceId": "ami-00000000000000010"}]}
EOF

# Request ids are fresh on every answer; golden files carry ID instead.
norm () {
	sed 's|<requestId>[^<]*</requestId>|<requestId>ID</requestId>|; s|<RequestID>[^<]*</RequestID>|<RequestID>ID</RequestID>|'
}

test_expect_success 'DescribeImages: EC2 XML from the model, every seeded field' '
	ec2_start seed.json &&
	ec2_query DescribeImages ImageId.1=ami-00000000000000001 >out &&
	norm <out >actual &&
	cat >expect <<-\EOF &&
	<?xml version="1.0" encoding="UTF-8"?>
	<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
	    <requestId>ID</requestId>
	    <imagesSet>
	        <item>
	            <blockDeviceMapping>
	                <item>
	                    <ebs>
	                        <deleteOnTermination>true</deleteOnTermination>
	                        <snapshotId>snap-00000000000000001</snapshotId>
	                        <volumeSize>8</volumeSize>
	                        <encrypted>false</encrypted>
	                    </ebs>
	                    <deviceName>/dev/xvda</deviceName>
	                </item>
	                <item>
	                    <deviceName>/dev/sdb</deviceName>
	                    <virtualName>ephemeral0</virtualName>
	                </item>
	            </blockDeviceMapping>
	            <description>web &lt;1&gt; &amp; co</description>
	            <enaSupport>true</enaSupport>
	            <name>web-01</name>
	            <rootDeviceName>/dev/xvda</rootDeviceName>
	            <rootDeviceType>ebs</rootDeviceType>
	            <tagSet>
	                <item>
	                    <key>Project</key>
	                    <value>web</value>
	                </item>
	            </tagSet>
	            <deregistrationProtection>disabled</deregistrationProtection>
	            <sourceImageId>ami-0aaaaaaaaaaaaaaa1</sourceImageId>
	            <sourceImageRegion>eu-west-1</sourceImageRegion>
	            <imageId>ami-00000000000000001</imageId>
	            <imageState>available</imageState>
	            <imageOwnerId>123456789012</imageOwnerId>
	            <creationDate>2024-05-01T12:00:00.000Z</creationDate>
	            <isPublic>false</isPublic>
	            <architecture>x86_64</architecture>
	        </item>
	    </imagesSet>
	</DescribeImagesResponse>
	EOF
	test_cmp expect actual
'

test_expect_success 'an EC2 error: the XML, status 400 and the request id header agree' '
	printf "user = \"%s:%s\"\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >curl.conf &&
	curl -sS --aws-sigv4 aws:amz:us-east-1:ec2 -K curl.conf -D headers -o body \
		-d "Action=DescribeImages&Version=2016-11-15&ImageId.1=ami-0000000000000abcd" "$EC2_URL/" &&
	sed -n "1p" headers | tr -d "\r" >status &&
	echo "HTTP/1.1 400 Bad Request" >expect &&
	test_cmp expect status &&
	id=$(sed -n "s/^x-amzn-RequestId: \([^\r]*\).*/\1/p" headers) &&
	test -n "$id" &&
	printf "%s\n%s" "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" \
		"<Response><Errors><Error><Code>InvalidAMIID.NotFound</Code><Message>The image id '\''[ami-0000000000000abcd]'\'' does not exist</Message></Error></Errors><RequestID>$id</RequestID></Response>" >expect &&
	test_cmp expect body &&
	test_grep "^Content-Length: $(wc -c <body | tr -d " ")" headers
'

test_expect_success 'Query errors: InvalidAction, UnknownParameter, MissingParameter, malformed id' '
	test_must_fail ec2_query DescribeImagez >out && test "$(ec2_status)" = 400 &&
	test_grep "<Code>InvalidAction</Code><Message>The action DescribeImagez is not valid for this web service.</Message>" out &&
	test_must_fail ec2_query DescribeImages Filter.1.Nmae=name >out && test "$(ec2_status)" = 400 &&
	test_grep "<Code>UnknownParameter</Code><Message>The parameter Filter.1.Nmae is not recognized</Message>" out &&
	test_must_fail ec2_query DeregisterImage >out &&
	test_grep "<Code>MissingParameter</Code><Message>The request must contain the parameter ImageId</Message>" out &&
	test_must_fail ec2_query TerminateInstances InstanceId.1=i-nope >out &&
	test_grep "<Code>InvalidInstanceID.Malformed</Code>" out &&
	test_must_fail ec2_query DescribeImages Filter.1.Name=nmae Filter.1.Value.1=x >out &&
	test_grep "<Code>InvalidParameterValue</Code><Message>The filter '\''nmae'\'' is invalid</Message>" out
'

test_expect_success 'unsigned and unknown-key requests are refused' '
	curl -sS -o out -w "%{http_code}\n" -d "Action=DescribeImages&Version=2016-11-15" "$EC2_URL/" >status &&
	echo 400 >expect && test_cmp expect status &&
	test_grep "<Code>MissingParameter</Code><Message>The request must contain the parameter AWSAccessKeyId</Message>" out &&
	AWS_ACCESS_KEY_ID=AKIAUNKNOWN000000000 test_must_fail ec2_query DescribeImages >out &&
	test "$(ec2_status)" = 401 &&
	test_grep "<Code>AuthFailure</Code>" out
'

test_expect_success 'DeregisterImage with DeleteAssociatedSnapshots: shared snapshots are kept' '
	ec2_query DeregisterImage ImageId=ami-00000000000000002 DeleteAssociatedSnapshots=true >out &&
	norm <out >actual &&
	cat >expect <<-\EOF &&
	<?xml version="1.0" encoding="UTF-8"?>
	<DeregisterImageResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
	    <requestId>ID</requestId>
	    <return>true</return>
	    <deleteSnapshotResultSet>
	        <item>
	            <snapshotId>snap-00000000000000002</snapshotId>
	            <returnCode>success</returnCode>
	        </item>
	        <item>
	            <snapshotId>snap-00000000000000099</snapshotId>
	            <returnCode>skipped</returnCode>
	        </item>
	    </deleteSnapshotResultSet>
	</DeregisterImageResponse>
	EOF
	test_cmp expect actual &&
	ec2_state >state &&
	jq -r ".Regions[\"us-east-1\"].Snapshots[].SnapshotId" state >actual &&
	printf "snap-0000000000000000%s\n" 1 3 99 | sed s/00099/0099/ >expect &&
	test_cmp expect actual
'

test_expect_success 'an older endpoint: UnknownParameter, then DeleteSnapshot one by one' '
	ec2_settings "{\"UnknownParameters\": [\"DeregisterImage.DeleteAssociatedSnapshots\"]}" &&
	test_must_fail ec2_query DeregisterImage ImageId=ami-00000000000000003 DeleteAssociatedSnapshots=true >out &&
	test "$(ec2_status)" = 400 &&
	test_grep "<Code>UnknownParameter</Code><Message>The parameter DeleteAssociatedSnapshots is not recognized</Message>" out &&
	test_must_fail ec2_query DeleteSnapshot SnapshotId=snap-00000000000000003 >out &&
	test_grep "<Code>InvalidSnapshot.InUse</Code><Message>The snapshot snap-00000000000000003 is currently in use by ami-00000000000000003</Message>" out &&
	ec2_query DeregisterImage ImageId=ami-00000000000000003 >out &&
	ec2_query DeleteSnapshot SnapshotId=snap-00000000000000003 >out &&
	ec2_query DeleteSnapshot SnapshotId=snap-00000000000000099 >out &&
	test_must_fail ec2_query DeleteSnapshot SnapshotId=snap-00000000000000099 >out &&
	test_grep "<Code>InvalidSnapshot.NotFound</Code><Message>The snapshot '\''snap-00000000000000099'\'' does not exist.</Message>" out &&
	ec2_settings "{\"UnknownParameters\": []}"
'

test_expect_success 'refusals come before DryRun: protection, the Deny list, unknown images' '
	test_must_fail ec2_query DeregisterImage ImageId=ami-00000000000000004 DryRun=true >out &&
	test "$(ec2_status)" = 400 &&
	test_grep "<Code>OperationNotPermitted</Code>" out &&
	test_must_fail ec2_query DeregisterImage ImageId=ami-00000000000000010 DryRun=true >out &&
	test "$(ec2_status)" = 403 &&
	test_grep "<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation." out &&
	test_must_fail ec2_query DeregisterImage ImageId=ami-00000000000000006 DryRun=true >out &&
	test "$(ec2_status)" = 412 &&
	test_grep "<Code>DryRunOperation</Code>" out &&
	test_must_fail ec2_query DeregisterImage ImageId=ami-0000000000000abcd DryRun=true >out &&
	test_grep "<Code>InvalidAMIID.NotFound</Code>" out &&
	ec2_state >state &&
	jq -e "[.Regions[\"us-east-1\"].Images[].ImageId] | index(\"ami-00000000000000006\") != null" state
'

test_expect_success 'EnableImageDeprecation rounds to the minute; the past is refused' '
	t=$(( $(date -u +%s) / 60 * 60 + 30 * 86400 )) &&
	at=$(date -u -d @$((t + 40)) +%Y-%m-%dT%H:%M:%SZ) &&
	want=$(date -u -d @$((t + 60)) +%Y-%m-%dT%H:%M:00.000Z) &&
	ec2_query EnableImageDeprecation ImageId=ami-00000000000000005 DeprecateAt=$at >out &&
	test_grep "<return>true</return>" out &&
	ec2_query DescribeImages ImageId.1=ami-00000000000000005 >out &&
	test_grep "<deprecationTime>$want</deprecationTime>" out &&
	test_must_fail ec2_query EnableImageDeprecation ImageId=ami-00000000000000005 DeprecateAt=2020-01-01T00:00:00Z >out &&
	test_grep "<Code>InvalidParameterValue</Code>" out &&
	ec2_query DisableImageDeprecation ImageId=ami-00000000000000005 >out &&
	ec2_query DescribeImages ImageId.1=ami-00000000000000005 >out &&
	test_grep -v "<deprecationTime>" out
'

test_expect_success 'pagination: MaxResults bounds, and a deletion between pages loses nothing' '
	test_must_fail ec2_query DescribeImages MaxResults=4 >out &&
	test_grep "<Code>InvalidParameterValue</Code><Message>Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5.</Message>" out &&
	ec2_query DescribeImages Owner.1=self MaxResults=5 >page1 &&
	tok=$(sed -n "s|.*<nextToken>\(.*\)</nextToken>|\1|p" page1) &&
	test -n "$tok" &&
	ec2_query DeregisterImage ImageId=ami-00000000000000005 >out &&
	ec2_query DeregisterImage ImageId=ami-00000000000000007 >out &&
	ec2_query DescribeImages Owner.1=self MaxResults=5 NextToken=$tok >page2 &&
	test_grep -v "<nextToken>" page2 &&
	cat page1 page2 | sed -n "s|.*<imageId>\(.*\)</imageId>|\1|p" >actual &&
	printf "ami-000000000000000%s\n" 01 04 05 06 07 08 09 10 >expect &&
	test_cmp expect actual &&
	test_must_fail ec2_query DescribeInstances InstanceId.1=i-00000000000000001 MaxResults=5 >out &&
	test_grep "<Code>InvalidParameterCombination</Code>" out
'

test_expect_success 'TerminateInstances: terminated stays terminated, unknown ids fail' '
	ec2_query TerminateInstances InstanceId.1=i-00000000000000001 >out &&
	norm <out >actual &&
	cat >expect <<-\EOF &&
	<?xml version="1.0" encoding="UTF-8"?>
	<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
	    <requestId>ID</requestId>
	    <instancesSet>
	        <item>
	            <instanceId>i-00000000000000001</instanceId>
	            <currentState>
	                <code>48</code>
	                <name>terminated</name>
	            </currentState>
	            <previousState>
	                <code>48</code>
	                <name>terminated</name>
	            </previousState>
	        </item>
	    </instancesSet>
	</TerminateInstancesResponse>
	EOF
	test_cmp expect actual &&
	test_must_fail ec2_query TerminateInstances InstanceId.1=i-00000000000000001 InstanceId.2=i-0000000000000abcd \
		InstanceId.3=i-0000000000000abce >out &&
	test_grep "<Message>The instance IDs '\''i-0000000000000abcd, i-0000000000000abce'\'' do not exist</Message>" out
'

test_expect_success 'CreateTags: any resource type; modelled ones must exist' '
	ec2_query CreateTags ResourceId.1=sg-0123456789abcdef0 Tag.1.Key=Team Tag.1.Value=ci >out &&
	test_grep "<return>true</return>" out &&
	ec2_state >state &&
	jq -c ".Regions[\"us-east-1\"].Tags" state >actual &&
	echo "{\"sg-0123456789abcdef0\":[{\"Key\":\"Team\",\"Value\":\"ci\"}]}" >expect &&
	test_cmp expect actual &&
	test_must_fail ec2_query CreateTags ResourceId.1=ami-0000000000000abcd Tag.1.Key=Team Tag.1.Value=ci >out &&
	test_grep "<Code>InvalidAMIID.NotFound</Code>" out
'

test_expect_success 'client tokens: RunInstances and CopyImage answer once, refuse other parameters' '
	ec2_query RunInstances ImageId=ami-00000000000000001 MinCount=1 MaxCount=1 ClientToken=t-1 >first &&
	ec2_query RunInstances ImageId=ami-00000000000000001 MinCount=1 MaxCount=1 ClientToken=t-1 >second &&
	sed -n "s|.*<instanceId>\(.*\)</instanceId>|\1|p" first >id1 &&
	sed -n "s|.*<instanceId>\(.*\)</instanceId>|\1|p" second >id2 &&
	test_line_count = 1 id1 &&
	test_cmp id1 id2 &&
	test_must_fail ec2_query RunInstances ImageId=ami-00000000000000001 MinCount=1 MaxCount=2 ClientToken=t-1 >out &&
	test_grep "<Code>IdempotentParameterMismatch</Code>" out &&
	ec2_query CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=copy-1 ClientToken=c-1 >first &&
	ec2_query CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=copy-1 ClientToken=c-1 >second &&
	norm <first >a && norm <second >b && test_cmp a b &&
	test_must_fail ec2_query CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=copy-2 ClientToken=c-1 >out &&
	test_grep "<Code>IdempotentParameterMismatch</Code>" out &&
	ec2_state >state &&
	jq -r "[.Regions[\"us-east-1\"].Images[] | select(.Name == \"copy-1\")] | length" state >actual &&
	echo 1 >expect && test_cmp expect actual
'

test_expect_success 'CopyImage encrypted: new snapshots take the key; a key alone is refused' '
	ec2_query CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=enc-1 Encrypted=true \
		KmsKeyId=alias/amicycle >out &&
	id=$(sed -n "s|.*<imageId>\(.*\)</imageId>|\1|p" out) &&
	ec2_state >state &&
	jq -r --arg id "$id" ".Regions[\"us-east-1\"] | (.Images[] | select(.ImageId == \$id) | .BlockDeviceMappings[0].Ebs.SnapshotId) as \$s | .Snapshots[] | select(.SnapshotId == \$s) | [.State, .Encrypted, .KmsKeyId] | @tsv" state >actual &&
	printf "pending\ttrue\talias/amicycle\n" >expect &&
	test_cmp expect actual &&
	test_must_fail ec2_query CopyImage SourceRegion=us-east-1 SourceImageId=ami-00000000000000001 Name=enc-2 \
		KmsKeyId=alias/amicycle >out &&
	test_grep "<Code>InvalidParameterDependency</Code>" out
'

test_expect_success 'Settings.PendingSeconds: settle by time, not by describes' '
	ec2_settings "{\"PendingSeconds\": 3600}" &&
	ec2_query RunInstances ImageId=ami-00000000000000001 MinCount=1 MaxCount=1 >out &&
	id=$(sed -n "s|.*<instanceId>\(.*\)</instanceId>|\1|p" out) &&
	for n in 1 2 3; do ec2_query DescribeInstances InstanceId.1=$id >out || return 1; done &&
	test_grep "<name>pending</name>" out &&
	ec2_settings "{\"PendingSeconds\": 0}" &&
	ec2_query RunInstances ImageId=ami-00000000000000001 MinCount=1 MaxCount=1 >out &&
	id=$(sed -n "s|.*<instanceId>\(.*\)</instanceId>|\1|p" out) &&
	ec2_query DescribeInstances InstanceId.1=$id >out &&
	test_grep "<name>running</name>" out &&
	test_grep "<ipAddress>127.0.0.1</ipAddress>" out &&
	ec2_settings "{\"PendingSeconds\": null}"
'

test_expect_success 'DescribeLaunchTemplates and DescribeImageAttribute' '
	ec2_query DescribeLaunchTemplates LaunchTemplateName.1=web >out &&
	norm <out >actual &&
	cat >expect <<-\EOF &&
	<?xml version="1.0" encoding="UTF-8"?>
	<DescribeLaunchTemplatesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
	    <requestId>ID</requestId>
	    <launchTemplates>
	        <item>
	            <launchTemplateId>lt-0123456789abcdef0</launchTemplateId>
	            <launchTemplateName>web</launchTemplateName>
	            <defaultVersionNumber>1</defaultVersionNumber>
	            <latestVersionNumber>1</latestVersionNumber>
	        </item>
	    </launchTemplates>
	</DescribeLaunchTemplatesResponse>
	EOF
	test_cmp expect actual &&
	test_must_fail ec2_query DescribeLaunchTemplates LaunchTemplateName.1=api >out &&
	test_grep "<Code>InvalidLaunchTemplateName.NotFoundException</Code>" out &&
	ec2_query DescribeImageAttribute ImageId=ami-00000000000000004 Attribute=deregistrationProtection >out &&
	test_grep "<deregistrationProtection>" out &&
	test_grep "<value>enabled-without-cooldown</value>" out
'

test_expect_success 'console output can appear only after a few calls' '
	ec2_settings "{\"ConsoleOutputAfterCalls\": 2}" &&
	ec2_console i-00000000000000002 "-----BEGIN SSH HOST KEY KEYS-----" &&
	ec2_query GetConsoleOutput InstanceId=i-00000000000000002 >one &&
	ec2_query GetConsoleOutput InstanceId=i-00000000000000002 >two &&
	ec2_query GetConsoleOutput InstanceId=i-00000000000000002 >three &&
	test_grep -v "<output>" one &&
	test_grep -v "<output>" two &&
	echo "<output>$(printf %s -----BEGIN\ SSH\ HOST\ KEY\ KEYS----- | base64 -w0)</output>" >expect &&
	sed -n "s/^ *\(<output>.*\)/\1/p" three >actual &&
	test_cmp expect actual
'

test_expect_success 'keep-alive: two requests on one connection, each with its Content-Length' '
	printf "user = \"%s:%s\"\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >curl.conf &&
	curl -sS --aws-sigv4 aws:amz:us-east-1:ec2 -K curl.conf -o /dev/null -o /dev/null \
		-w "%{num_connects}\n" -d "Action=DescribeImages&Version=2016-11-15" "$EC2_URL/" "$EC2_URL/" >connects &&
	printf "1\n0\n" >expect &&
	test_cmp expect connects
'

test_done
