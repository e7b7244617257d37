/* Question-embedding latency of the vendored e5 engine: p50/p90/p99 over N
 * questions in five languages. Run by scripts/bench-e5-question.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "e5.h"
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  e5_model*m=e5_load(argv[1]); if(!m)return 1;
  const char*qs[]={"How do I reset my password if I no longer have access to my email?","Wie kann ich die Bildschirmauflösung ändern?","Come posso noleggiare una bici elettrica?","What is the capital of France?","Can I use the same account on two devices at the same time and keep my notes in sync?"};
  float out[384]; int N=argc>2?atoi(argv[2]):100; double t[1000];
  for(int i=0;i<N;i++){double a=now(); e5_embed(m,qs[i%5],1,out); t[i]=now()-a;}
  qsort(t,N,sizeof(double),cmp); printf("p50 %.2f ms p90 %.2f p99 %.2f\n",t[N/2],t[N*9/10],t[N*99/100]);
}
