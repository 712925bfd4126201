/* endpoint.h: where a service's requests go: region names checked, https:// URLs built from them. */
#ifndef AMICYCLE_ENDPOINT_H
#define AMICYCLE_ENDPOINT_H

/*
 * 1 if s has the form of an AWS region name: words of lowercase letters and digits joined by
 * single hyphens, the first a word of letters, at least two words ("us-east-1", "us-gov-west-1"),
 * at most 32 characters. A region becomes part of a host name and of what is signed, so nothing
 * else may pass: not "attacker.example/#", "us-east-1.evil", "..", "US-EAST-1" or "".
 */
int	aws_region_valid(const char *s);

/*
 * The URL of service in region: endpoint when one is configured, else
 * https://SERVICE.REGION.amazonaws.com/. NULL, with nothing built, when region is not a region
 * name (aws_region_valid()): every caller that puts a region in a URL comes here, so a region no
 * reader checked still never reaches a host name. The caller frees the URL.
 */
char	*aws_service_url(const char *service, const char *region, const char *endpoint);

#endif
