#!/bin/bash
# The generated tables are what tools/gen-model.py writes, and the expected outputs of the
# ec2xml and ec2query unit tests (t/t0104, t/t0106) are what the AWS CLI itself prints and sends.

. "$(dirname "$0")"/test-lib.sh

[ -x "$PYTHON" ] && test_set_prereq PYTHON
MODELS=$SHARED/aws/models
TESTS=$SHARED/aws/protocol-tests
# The full reference data, when a checkout has it beside it (a bare clone does not).
FULL=$SRC_DIR/../shared
[ -x "$PYTHON" ] && [ -f "$FULL/aws/models/ec2-2016-11-15/service-2.json" ] && test_set_prereq FULL_SHARED

test_expect_success PYTHON 'lib/ec2/ec2model.c is what tools/gen-model.py writes' '
	"$PYTHON" "$SRC_DIR/tools/gen-model.py" --models "$MODELS" >ec2model.c &&
	test_cmp "$SRC_DIR/lib/ec2/ec2model.c" ec2model.c
'

test_expect_success FULL_SHARED 't/data/aws/models is what tools/trim-models.py writes from ../shared' '
	"$PYTHON" "$SRC_DIR/tools/trim-models.py" --from "$FULL/aws/models" --out trimmed &&
	diff -r "$SRC_DIR/t/data/aws/models" trimmed &&
	(cd trimmed && ls) >services &&
	printf "%s\n" autoscaling-2011-01-01 ec2-2016-11-15 ssm-2014-11-06 sts-2011-06-15 >expect &&
	test_cmp expect services
'

test_expect_success FULL_SHARED 'the rest of t/data/aws is a copy of ../shared/aws (less presigned cases)' '
	(cd "$SRC_DIR/t/data/aws" && find LICENSE protocol-tests sigv4-testsuite -type f) >files &&
	test "$(wc -l <files)" -gt 250 &&
	while read -r f
	do
		cmp "$SRC_DIR/t/data/aws/$f" "$FULL/aws/$f" || return 1
	done <files &&
	(cd "$FULL/aws/sigv4-testsuite" && find . -type f ! -name "query-*.txt") | sort >want &&
	(cd "$SRC_DIR/t/data/aws/sigv4-testsuite" && find . -type f) | sort >have &&
	test_cmp want have &&
	diff -r "$FULL/samples/packer" "$SRC_DIR/t/data/samples/packer"
'

test_expect_success PYTHON 'gen-model.py reads t/data/aws/models by default' '
	"$PYTHON" "$SRC_DIR/tools/gen-model.py" >default.c &&
	test_cmp "$SRC_DIR/lib/ec2/ec2model.c" default.c
'

test_expect_success PYTHON 't/unit/protocol-model.inc is what tools/gen-model.py writes' '
	(cd "$TESTS" && "$PYTHON" "$SRC_DIR/tools/gen-model.py" --protocol-tests \
		input-ec2.json input-query.json input-json.json \
		output-ec2.json output-query.json output-json.json) >protocol-model.inc &&
	test_cmp "$SRC_DIR/t/unit/protocol-model.inc" protocol-model.inc
'

test_expect_success PYTHON 'the generator refuses a model without an operation it needs' '
	mkdir -p models/ec2-2016-11-15 models/sts-2011-06-15 &&
	echo "{\"metadata\":{\"protocol\":\"ec2\",\"endpointPrefix\":\"ec2\",\"apiVersion\":\"2016-11-15\"},\"operations\":{},\"shapes\":{}}" \
		>models/ec2-2016-11-15/service-2.json &&
	test_expect_code 1 "$PYTHON" "$SRC_DIR/tools/gen-model.py" --models models >out 2>err &&
	test_grep "no operation DescribeImages" err
'

test_expect_success AWSCLI 'the ec2xml fixtures hold what the AWS CLI prints for each response' '
	(cd "$SRC_DIR/t/t0104" && "$PYTHON" "$SRC_DIR/t/t0105/aws-cli.py" parse "$MODELS" *.xml) >actual &&
	cat "$SRC_DIR"/t/t0104/*.json >expect &&
	test_cmp expect actual
'

test_expect_success AWSCLI 'the ec2query cases hold the bodies the AWS CLI sends' '
	"$PYTHON" "$SRC_DIR/t/t0105/aws-cli.py" body "$MODELS" <"$SRC_DIR/t/t0106/cases.jsonl" >actual &&
	jq -r .body "$SRC_DIR/t/t0106/cases.jsonl" >expect &&
	test_cmp expect actual
'

test_done
