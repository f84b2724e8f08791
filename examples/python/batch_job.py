"""A durable batch job of two prompts: python3 examples/python/batch_job.py"""
import os, time, uuid
import grpc
from llmgateway.v1 import batch_jobs_pb2 as pb, batch_jobs_pb2_grpc
from llmgateway.v1.generation_pb2 import GenerateRequest
jobs = batch_jobs_pb2_grpc.BatchJobsStub(grpc.insecure_channel(os.environ.get("LLM_GATEWAY_ADDR", "localhost:50051")))
items = [pb.BatchJobItem(custom_id=p, request=GenerateRequest(model="fake-model", prompt=p)) for p in ("One", "Two")]
job = jobs.CreateBatchJob(pb.CreateBatchJobRequest(request_id=str(uuid.uuid4()), items=items), timeout=30)
while job.state in (pb.BatchJob.STATE_QUEUED, pb.BatchJob.STATE_RUNNING):  # until SUCCEEDED (or FAILED)
    time.sleep(0.2)
    job = jobs.GetBatchJob(pb.GetBatchJobRequest(id=job.id), timeout=10)
print(pb.BatchJob.State.Name(job.state))
for result in jobs.ListBatchJobResults(pb.ListBatchJobResultsRequest(id=job.id), timeout=30):  # index order
    print(result.custom_id, result.response.text)
