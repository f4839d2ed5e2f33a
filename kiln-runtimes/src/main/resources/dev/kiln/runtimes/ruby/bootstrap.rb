# Kiln's bootstrap for the Ruby runtimes (ruby3.2 - ruby3.4): Kiln's own, written for Kiln.
#
# It loads the handler named by _HANDLER from LAMBDA_TASK_ROOT ("file.method" or
# "file.Module::Class.method"), then loops: take the next event from the Runtime API, call the
# handler with event: and context:, post the result (as JSON) or the error document AWS's Ruby
# runtime posts ({"errorMessage", "errorType": "Function<Class>", "stackTrace"}). Anything that goes
# wrong while loading is an init error, "Init<Class>", posted to /init/error before exiting.
require 'json'
require 'net/http'
require 'time'

$stdout.sync = true
$stderr.sync = true

API = ENV.fetch('AWS_LAMBDA_RUNTIME_API')
HOST, PORT = API.split(':')
BASE = '/2018-06-01/runtime'

HTTP = Net::HTTP.new(HOST, PORT.to_i)
HTTP.read_timeout = nil
HTTP.keep_alive_timeout = 3600
HTTP.start

def post(path, body, headers = {})
  request = Net::HTTP::Post.new(BASE + path, { 'Content-Type' => 'application/json' }.merge(headers))
  request.body = body
  HTTP.request(request)
end

def error_document(error, prefix)
  {
    'errorMessage' => error.message,
    'errorType' => "#{prefix}<#{error.class}>",
    'stackTrace' => (error.backtrace || [])
  }
end

# What a Ruby handler receives as context:, as AWS's runtime shapes it.
class LambdaContext
  attr_reader :function_name, :function_version, :invoked_function_arn, :memory_limit_in_mb,
              :aws_request_id, :log_group_name, :log_stream_name, :deadline_ms, :identity,
              :client_context

  def initialize(headers)
    @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
    @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
    @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
    @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
    @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
    @aws_request_id = headers['lambda-runtime-aws-request-id']
    @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
    @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
    client_context = headers['lambda-runtime-client-context']
    @client_context = client_context ? JSON.parse(client_context) : nil
    identity = headers['lambda-runtime-cognito-identity']
    @identity = identity ? JSON.parse(identity) : nil
  end

  def get_remaining_time_in_millis
    [@deadline_ms - (Time.now.to_f * 1000).to_i, 0].max
  end
end

def load_handler
  handler = ENV.fetch('_HANDLER')
  file, method_path = handler.split('.', 2)
  raise ArgumentError, "Invalid handler #{handler}: expected file.method" if method_path.nil?

  task_root = ENV.fetch('LAMBDA_TASK_ROOT')
  $LOAD_PATH.unshift(task_root) unless $LOAD_PATH.include?(task_root)
  require File.join(task_root, file)
  if method_path.include?('::') || method_path.include?('.')
    receiver_path, method_name = method_path.rpartition('.').values_at(0, 2)
    receiver = receiver_path.split('::').reduce(Object) { |scope, name| scope.const_get(name) }
  else
    receiver = Object.new
    method_name = method_path
  end
  unless receiver.respond_to?(method_name, true)
    raise NameError, "undefined method `#{method_name}' for #{receiver_path || 'main'}"
  end

  receiver.method(method_name)
end

begin
  HANDLER = load_handler
rescue Exception => e # rubocop:disable Lint/RescueException
  warn "Init error when loading handler #{ENV['_HANDLER']}: #{e.class}: #{e.message}"
  post('/init/error', JSON.generate(error_document(e, 'Init')),
       'Lambda-Runtime-Function-Error-Type' => "Init<#{e.class}>")
  exit 1
end

loop do
  response = HTTP.request(Net::HTTP::Get.new(BASE + '/invocation/next'))
  headers = response.each_header.to_h
  request_id = headers['lambda-runtime-aws-request-id']
  # the X-Ray trace header of this invocation, where the AWS SDK and X-Ray look for it
  if headers['lambda-runtime-trace-id']
    ENV['_X_AMZN_TRACE_ID'] = headers['lambda-runtime-trace-id']
  else
    ENV.delete('_X_AMZN_TRACE_ID')
  end
  context = LambdaContext.new(headers)
  begin
    event = response.body.nil? || response.body.empty? ? nil : JSON.parse(response.body)
    result = HANDLER.call(event: event, context: context)
    post("/invocation/#{request_id}/response", JSON.generate(result))
  rescue Exception => e # rubocop:disable Lint/RescueException
    warn "Error raised from handler method: #{e.class}: #{e.message}"
    post("/invocation/#{request_id}/error", JSON.generate(error_document(e, 'Function')),
         'Lambda-Runtime-Function-Error-Type' => "Function<#{e.class}>")
  end
end
